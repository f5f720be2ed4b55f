#!/usr/bin/env python
from diplohub.manage import main

if __name__ == "__main__":
    main()

// The search page (knowledge/search.html). Everything works without this file; with
// htmx, after another page of results is swapped in, the link that was followed is
// gone: move the focus to the results and bring them into view.
document.addEventListener("htmx:afterSwap", function (event) {
  var source = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (!source || !source.closest || !source.closest(".pagination")) return;
  var heading = document.getElementById("hits-heading");
  if (heading) {
    heading.focus();
    heading.scrollIntoView({ block: "start" });
  }
});

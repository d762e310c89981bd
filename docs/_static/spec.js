// C4 and other Graphviz diagrams: a link under each opens the SVG on its own, where the browser zooms it.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("div.graphviz object[data]").forEach((diagram) => {
    const link = document.createElement("a");
    link.href = diagram.getAttribute("data");
    link.className = "diagram-zoom";
    link.textContent = "Open the diagram full size (zoomable)";
    diagram.parentElement.appendChild(link);
  });
});

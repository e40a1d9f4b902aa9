// Renders /openapi/v1.json as a list of operations grouped by tag. No third-party code.
"use strict";
(async function () {
  const root = document.getElementById("operations");
  const filter = document.getElementById("filter");
  let doc;
  try {
    const response = await fetch("/openapi/v1.json");
    doc = await response.json();
  } catch (e) {
    root.textContent = "Could not load /openapi/v1.json: " + e;
    return;
  }

  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    children.flat().forEach(c => node.append(c instanceof Node ? c : document.createTextNode(String(c))));
    return node;
  };
  const resolve = schema => {
    if (schema && schema.$ref) {
      const name = schema.$ref.split("/").pop();
      return (doc.components && doc.components.schemas && doc.components.schemas[name]) || schema;
    }
    return schema;
  };

  const groups = new Map();
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const tag = (op.tags && op.tags[0]) || "Other";
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push({ path, method, op, parameters: [...(item.parameters || []), ...(op.parameters || [])] });
    }
  }

  root.replaceChildren();
  for (const [tag, ops] of [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const section = el("section", { "data-tag": tag.toLowerCase() }, el("h2", {}, tag));
    for (const { path, method, op, parameters } of ops.sort((a, b) => a.path.localeCompare(b.path))) {
      const body = el("div", { class: "body" });
      if (op.summary || op.description) body.append(el("p", {}, op.summary || op.description));
      if (parameters.length) {
        body.append(el("table", {},
          el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"), el("th", {}, "type"), el("th", {}, "required")),
          parameters.map(p => el("tr", {}, el("td", {}, p.name), el("td", {}, p.in),
            el("td", {}, (resolve(p.schema) || {}).type || ""), el("td", {}, p.required ? "yes" : "")))));
      }
      const content = op.requestBody && op.requestBody.content;
      if (content) {
        for (const [type, media] of Object.entries(content)) {
          body.append(el("p", {}, "Request body: " + type));
          if (media.schema) body.append(el("pre", {}, JSON.stringify(resolve(media.schema), null, 2)));
        }
      }
      const codes = Object.keys(op.responses || {});
      if (codes.length) body.append(el("p", {}, "Responses: " + codes.join(", ")));
      section.append(el("details", { "data-search": (method + " " + path + " " + tag).toLowerCase() },
        el("summary", {}, el("span", { class: "method " + method }, method.toUpperCase()), " ", path), body));
    }
    root.append(section);
  }

  filter.addEventListener("input", () => {
    const q = filter.value.trim().toLowerCase();
    for (const section of root.querySelectorAll("section")) {
      let shown = 0;
      for (const d of section.querySelectorAll("details")) {
        const match = !q || d.dataset.search.includes(q);
        d.hidden = !match;
        if (match) shown++;
      }
      section.hidden = shown === 0;
    }
  });
})();

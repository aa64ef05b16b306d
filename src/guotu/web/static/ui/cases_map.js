/* guotu approval pages: the map of a case's site over the one map (一张图). The workspace's
 * own vector tiles (/tiles/{layer}/{z}/{x}/{y}.mvt, the layers the user may read as
 * /ui/config.json lists them), coloured as on the one-map page; the site outline on top and,
 * while the window draws a site, the polygon being drawn. MapLibre GL from /ui/vendor/. */
"use strict";

const MAP_ZONE_ROLES = ["admin_boundary", "ecological_redline", "permanent_farmland", "urban_boundary"];
/** Hidden as on the one-map page, except the detailed plan: a permit's conditions come from it. */
const MAP_HIDDEN = ["DLTB", "BHTB", "TDZZXM"];
const EMPTY = { type: "FeatureCollection", features: [] };
/** The site's outline: the one-map page's colour for what a user picked (no layer uses it). */
const SITE_COLOUR = "#0d47a1";

function mapClassFill(layer, cfg) {
  const table = layer.code_scheme === "sandiao" ? cfg.land_survey_colours : cfg.land_use_colours;
  const code = ["to-string", ["coalesce", ["get", layer.code_field], ""]];
  const match = ["match", ["slice", code, 0, 2]];
  for (const c of table) { if (c.code !== "00") match.push(c.code, c.colour); }
  match.push("#cccccc");
  return match;
}

function mapLayersFor(layer, cfg) {
  const base = { source: layer.name, "source-layer": layer.name };
  const id = layer.name;
  const line = layer.colour || "#666666";
  if (layer.geometry_type.includes("LINE")) return [{ ...base, id: `${id}-line`, type: "line", paint: { "line-color": line, "line-width": 2 } }];
  if (layer.code_field && layer.code_scheme) {
    return [{ ...base, id: `${id}-fill`, type: "fill", paint: { "fill-color": mapClassFill(layer, cfg), "fill-opacity": 0.7 } },
      { ...base, id: `${id}-line`, type: "line", paint: { "line-color": "#888888", "line-width": 0.5 } }];
  }
  if (MAP_ZONE_ROLES.includes(layer.role)) {
    const dash = layer.role === "urban_boundary" ? [3, 2] : [1, 0];
    return [{ ...base, id: `${id}-fill`, type: "fill", paint: { "fill-color": line, "fill-opacity": 0.12 } },
      { ...base, id: `${id}-line`, type: "line", paint: { "line-color": line, "line-width": 2, "line-dasharray": dash } }];
  }
  return [{ ...base, id: `${id}-fill`, type: "fill", paint: { "fill-color": layer.colour || "#9e9e9e", "fill-opacity": 0.25 } },
    { ...base, id: `${id}-line`, type: "line", paint: { "line-color": line, "line-width": 1 } }];
}

function mapOrder(layer) {
  if (layer.role === "land_survey") return 0;
  if (layer.code_field === "YDYHFLDM") return layer.role === "planned_land_use" ? 1 : 2;
  return MAP_ZONE_ROLES.includes(layer.role) ? 4 : 3;
}

/** The one map in ``container`` with the site (and drawing) layers; the map, once loaded. */
function caseMap(container, cfg, { asOf = "" } = {}) {
  const sources = {};
  const layers = [{ id: "background", type: "background", paint: { "background-color": "#eef2f5" } }];
  const q = asOf ? `?as_of=${encodeURIComponent(asOf)}` : "";
  for (const layer of [...cfg.layers].sort((a, b) => mapOrder(a) - mapOrder(b))) {
    sources[layer.name] = { type: "vector", tiles: [`${location.origin}/tiles/${encodeURIComponent(layer.name)}/{z}/{x}/{y}.mvt${q}`], minzoom: 0, maxzoom: 18 };
    for (const ml of mapLayersFor(layer, cfg)) {
      ml.layout = { visibility: MAP_HIDDEN.includes(layer.name) ? "none" : "visible" };
      layers.push(ml);
    }
  }
  sources.site = { type: "geojson", data: EMPTY };
  sources.draft = { type: "geojson", data: EMPTY };
  layers.push(
    { id: "site-fill", type: "fill", source: "site", paint: { "fill-color": SITE_COLOUR, "fill-opacity": 0.15 } },
    { id: "site-casing", type: "line", source: "site", paint: { "line-color": "#ffffff", "line-width": 6, "line-opacity": 0.9 } },
    { id: "site-line", type: "line", source: "site", paint: { "line-color": SITE_COLOUR, "line-width": 3 } },
    { id: "draft-line", type: "line", source: "draft", filter: ["==", ["geometry-type"], "LineString"], paint: { "line-color": SITE_COLOUR, "line-width": 2, "line-dasharray": [2, 1] } },
    { id: "draft-points", type: "circle", source: "draft", filter: ["==", ["geometry-type"], "Point"], paint: { "circle-radius": 4, "circle-color": "#ffffff", "circle-stroke-color": SITE_COLOUR, "circle-stroke-width": 2 } },
  );
  const map = new maplibregl.Map({
    container, style: { version: 8, sources, layers }, attributionControl: false,
    bounds: cfg.bounds || [73, 18, 135, 54], fitBoundsOptions: { padding: 20 }, maxZoom: 20,
    transformRequest: (url) => ({ url: url.startsWith(location.origin) ? location.origin + withLang(url) : url }),
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  window.guotuMap = map;
  return new Promise((resolve) => map.on("load", () => resolve(map)));
}

/** The bounds [[w, s], [e, n]] of a GeoJSON geometry's coordinates. */
function geometryBounds(geometry) {
  let w = Infinity; let s = Infinity; let e = -Infinity; let n = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === "number") { w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]); return; }
    c.forEach(walk);
  };
  walk(geometry.coordinates);
  return [[w, s], [e, n]];
}

/** Show ``geometry`` (lon/lat) as the site; ``fit`` zooms to it. */
function showSite(map, geometry, fit = true) {
  map.getSource("site").setData(geometry ? { type: "Feature", properties: {}, geometry } : EMPTY);
  if (geometry && fit) map.fitBounds(geometryBounds(geometry), { padding: 60, maxZoom: 18, duration: 0 });
}

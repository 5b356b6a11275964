// The photo map at /map/ (and /map/all/ for staff): geo/templates/geo/map.html.
//
// The page already holds everything this script needs:
//   - the photos, as JSON in <script id="map-points"> (Django's json_script filter),
//     one {id, lat, lon, species, date, thumbnail, url[, owner]} per photo;
//   - the tile URL and the marker images, as data-* attributes of <div id="map">.
// Leaflet (L) and Leaflet.markercluster are loaded before this file, from our own
// static files.
//
// Safety: species names come from the classifier, but owners' names are typed by
// users. So the popups are built from DOM nodes and textContent, never from HTML
// strings: whatever a text contains, it is shown as text and never run.

(function () {
  "use strict";

  const container = document.getElementById("map");
  if (!container || typeof L === "undefined") {
    return; // not the map page, or Leaflet failed to load
  }
  const points = JSON.parse(document.getElementById("map-points").textContent);

  // 1. The map itself. The whole world until we know where the photos are.
  const map = L.map(container, { worldCopyJump: true }).setView([20, 0], 2);

  // 2. The background tiles. If they cannot load (offline, blocked, server down),
  //    Leaflet just leaves grey squares; the markers do not depend on them. We tell
  //    the user once, so a grey map does not look like a broken page.
  const tiles = L.tileLayer(container.dataset.tileUrl, {
    maxZoom: 19,
    // The credit the tile provider asks for. Leaflet shows it as HTML: it comes from
    // the server's code (geo/views.py), never from users.
    attribution: container.dataset.tileAttribution,
  });
  tiles.once("tileerror", function () {
    document.getElementById("map-offline").hidden = false;
  });
  tiles.addTo(map);

  // Leaflet guesses its marker image's address from its CSS, which fails once
  // collectstatic has renamed the files (marker-icon.3f2a….png); the page tells us.
  const icon = L.icon({
    iconUrl: container.dataset.iconUrl,
    iconRetinaUrl: container.dataset.iconRetinaUrl,
    shadowUrl: container.dataset.shadowUrl,
    iconSize: [25, 41], // Leaflet's default marker's sizes
    iconAnchor: [12, 41],
    popupAnchor: [1, -34],
    shadowSize: [41, 41],
  });

  // 3. A popup's content: thumbnail, species, date (and owner on the staff map).
  function popupContent(point) {
    const box = document.createElement("div");
    box.className = "map-popup";

    const image = document.createElement("img");
    image.src = point.thumbnail; // a URL made by the server, set as a property
    image.alt = point.species;
    image.loading = "lazy";

    const species = document.createElement("span");
    species.className = "species-name";
    species.textContent = point.species;

    const date = document.createElement("time");
    date.className = "meta";
    date.dateTime = point.date;
    date.textContent = point.date;

    // A link to the photo's page when it is ours to see; otherwise just the picture.
    if (point.url) {
      const link = document.createElement("a");
      link.href = point.url;
      link.appendChild(image);
      box.appendChild(link);
    } else {
      box.appendChild(image);
    }
    box.appendChild(species);
    box.appendChild(date);
    if (point.owner) {
      const owner = document.createElement("span");
      owner.className = "meta";
      owner.textContent = "by " + point.owner;
      box.appendChild(owner);
    }
    return box;
  }

  // 4. One marker per photo, in a cluster group: nearby markers merge into a
  //    numbered circle that splits up as you zoom in.
  const clusters = L.markerClusterGroup();
  for (const point of points) {
    const marker = L.marker([point.lat, point.lon], { icon: icon, title: point.species });
    // A function: the popup's nodes are only built when it is first opened.
    marker.bindPopup(function () {
      return popupContent(point);
    });
    clusters.addLayer(marker);
  }

  // 5. Zoom to show every photo (not too close when there is only one), before the
  //    markers go on the map, so they are clustered once, at the final zoom.
  if (points.length > 0) {
    map.fitBounds(clusters.getBounds(), { padding: [30, 30], maxZoom: 14, animate: false });
  }
  map.addLayer(clusters);

  // For the browser tests: the map is drawn.
  container.dataset.ready = "true";
})();

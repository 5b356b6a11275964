// The photo map at /map/ (and /map/all/ for staff): geo/templates/geo/map.html.
//
// The page holds no photos. This script asks the same API as any client,
// GET /api/v1/locations?bbox=minLon,minLat,maxLon,maxLat (history/locations_api.py),
// signed in by the browser's session cookie (a GET needs no CSRF token). First for the
// whole world, to say how many photos there are and to zoom to them; then, when they
// were too many to send one by one, for the box the map shows, again each time the map
// has moved out of what it already knows in full. An answer is either the photos
// themselves, drawn as markers that Leaflet.markercluster groups as you zoom out, or,
// with more than 200 photos in the box, the server's clusters, drawn as numbered
// circles that zoom in when clicked.
//
// What this script needs from the page travels as data-* attributes of <div id="map">:
// the API's address, whether to ask for everyone's photos (all=true, the staff map),
// the address of a photo's page ("/history/{id}/"), the tile URL and the marker images.
// Leaflet (L) and Leaflet.markercluster are loaded before this file, from our own
// static files.
//
// Safety: species names come from the classifier, not from this page's code. So the
// popups and clusters are built from DOM nodes and textContent, never from HTML
// strings: whatever a text contains, it is shown as text and never run.

(function () {
  "use strict";

  const container = document.getElementById("map");
  if (!container || typeof L === "undefined") {
    return; // not the map page, or Leaflet failed to load
  }
  const page = container.dataset;
  const everyone = page.everyone === "true";
  const summary = document.getElementById("map-summary");
  const WORLD = [-180, -90, 180, 90];

  // 1. The map itself. The whole world until we know where the photos are.
  const map = L.map(container, { worldCopyJump: true }).setView([20, 0], 2);

  // 2. The background tiles. If they cannot load (offline, blocked, server down),
  //    Leaflet just leaves grey squares; the markers do not depend on them. We tell
  //    the user once, so a grey map does not look like a broken page.
  const tiles = L.tileLayer(page.tileUrl, {
    maxZoom: 19,
    // The credit the tile provider asks for. Leaflet shows it as HTML: it comes from
    // the server's code (geo/views.py), never from users.
    attribution: page.tileAttribution,
  });
  tiles.once("tileerror", function () {
    document.getElementById("map-offline").hidden = false;
  });
  tiles.addTo(map);

  // Leaflet guesses its marker image's address from its CSS, which fails once
  // collectstatic has renamed the files (marker-icon.3f2a….png); the page tells us.
  const icon = L.icon({
    iconUrl: page.iconUrl,
    iconRetinaUrl: page.iconRetinaUrl,
    shadowUrl: page.shadowUrl,
    iconSize: [25, 41], // Leaflet's default marker's sizes
    iconAnchor: [12, 41],
    popupAnchor: [1, -34],
    shadowSize: [41, 41],
  });

  // 3. A photo's popup: thumbnail, species, date, and on the staff map whose it is. A
  //    link to the photo's page only for one's own photos: another user's page is a 404.
  function speciesOf(photo) {
    return photo.is_bird ? photo.top_species : "Not a bird";
  }

  function popupContent(photo) {
    const box = document.createElement("div");
    box.className = "map-popup";

    const image = document.createElement("img");
    image.src = photo.thumbnail_url; // a URL made by the server, set as a property
    image.alt = speciesOf(photo);
    image.loading = "lazy";

    const species = document.createElement("span");
    species.className = "species-name";
    species.textContent = speciesOf(photo);

    // The day it was taken, if the photo said so, else the day it was submitted. The
    // API's times are in UTC, the server's time zone, so the day is their first 10
    // characters (YYYY-MM-DD).
    const day = (photo.taken_at || photo.created_at).slice(0, 10);
    const date = document.createElement("time");
    date.className = "meta";
    date.dateTime = day;
    date.textContent = day;

    if (photo.owner === page.username) {
      const link = document.createElement("a");
      link.href = page.photoUrl.replace("{id}", String(photo.id));
      link.appendChild(image);
      box.appendChild(link);
    } else {
      box.appendChild(image);
    }
    box.appendChild(species);
    box.appendChild(date);
    if (everyone) {
      // A username is typed by its user: set as text, never as HTML.
      const owner = document.createElement("span");
      owner.className = "meta";
      owner.textContent = "by " + photo.owner;
      box.appendChild(owner);
    }
    return box;
  }

  // 4. The markers. Photos go into a cluster group: nearby markers merge into a
  //    numbered circle that splits up as you zoom in. Each keeps its marker across
  //    answers, so a popup stays open while the map pans to show it.
  const photos = L.markerClusterGroup();
  const photoMarkers = new Map(); // photo id -> its marker
  const serverClusters = L.layerGroup(); // the API's clusters, replaced by each answer
  map.addLayer(photos);
  map.addLayer(serverClusters);

  function latLngOf(feature) {
    const [longitude, latitude] = feature.geometry.coordinates; // GeoJSON's order
    return [latitude, longitude];
  }

  function photoMarker(feature) {
    const photo = feature.properties;
    const marker = L.marker(latLngOf(feature), { icon: icon, title: speciesOf(photo) });
    // A function: the popup's nodes are only built when it is first opened.
    marker.bindPopup(function () {
      return popupContent(photo);
    });
    return marker;
  }

  function clusterMarker(feature) {
    const count = feature.properties.count;
    // Drawn like Leaflet.markercluster's own circles (its CSS), by size; map-cluster
    // tells them apart from those.
    const size = count < 10 ? "small" : count < 100 ? "medium" : "large";
    const label = document.createElement("div");
    const number = document.createElement("span");
    number.textContent = String(count);
    label.appendChild(number);
    const marker = L.marker(latLngOf(feature), {
      icon: L.divIcon({
        html: label,
        className: "map-cluster marker-cluster marker-cluster-" + size,
        iconSize: L.point(40, 40),
      }),
      title: count + " photos",
    });
    marker.on("click", function () {
      map.setView(latLngOf(feature), map.getZoom() + 2);
    });
    return marker;
  }

  function draw(collection) {
    serverClusters.clearLayers();
    if (collection.clustered) {
      photos.clearLayers();
      photoMarkers.clear();
      for (const feature of collection.features) {
        serverClusters.addLayer(clusterMarker(feature));
      }
      return;
    }
    const answered = new Set();
    const added = [];
    for (const feature of collection.features) {
      const id = feature.properties.id;
      answered.add(id);
      if (!photoMarkers.has(id)) {
        const marker = photoMarker(feature);
        photoMarkers.set(id, marker);
        added.push(marker);
      }
    }
    const gone = [];
    for (const [id, marker] of photoMarkers) {
      if (!answered.has(id)) {
        gone.push(marker);
        photoMarkers.delete(id);
      }
    }
    photos.removeLayers(gone);
    photos.addLayers(added);
  }

  // 5. Asking the API.
  function ask(box) {
    const query = new URLSearchParams({ bbox: box.join(",") });
    if (everyone) {
      query.set("all", "true");
    }
    return fetch(page.locationsUrl + "?" + query, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("the server answered " + response.status);
      }
      return response.json();
    });
  }

  // The box the map shows, as the API takes it: inside -180..180 and -90..90 (the map
  // itself can show more than one world, or beyond the poles). Rounded outwards to
  // 6 decimals (~0.1 m), so the address stays short and the box does not shrink.
  function visibleBox() {
    const bounds = map.getBounds();
    const clamp = function (value, low, high) {
      return Math.min(high, Math.max(low, value));
    };
    const down = (value) => Math.floor(value * 1e6) / 1e6;
    const up = (value) => Math.ceil(value * 1e6) / 1e6;
    const box = [
      down(clamp(bounds.getWest(), -180, 180)),
      down(clamp(bounds.getSouth(), -90, 90)),
      up(clamp(bounds.getEast(), -180, 180)),
      up(clamp(bounds.getNorth(), -90, 90)),
    ];
    // All of it beyond the antimeridian (in a copy of the world): ask for every longitude.
    return box[0] < box[2] && box[1] < box[3] ? box : WORLD;
  }

  // An answer of photos one by one (not clustered) holds every photo in its box: while
  // the map shows only part of that box, there is nothing new to ask.
  let complete = null; // the box of the last such answer, [minLon, minLat, maxLon, maxLat]
  function holds(outer, inner) {
    const [west, south, east, north] = inner;
    return outer[0] <= west && outer[1] <= south && outer[2] >= east && outer[3] >= north;
  }

  function drawAnswer(collection) {
    draw(collection);
    complete = collection.clustered ? null : collection.bbox;
  }

  // Answers can come back out of order when the map moves quickly: only the answer to
  // the newest question is drawn.
  let newest = 0;
  function showVisibleBox() {
    const box = visibleBox();
    if (complete && holds(complete, box)) {
      return Promise.resolve();
    }
    const question = ++newest;
    return ask(box).then(function (collection) {
      if (question === newest) {
        drawAnswer(collection);
      }
    });
  }

  function describe(count) {
    if (count === 0) {
      summary.hidden = true;
      document.getElementById("map-empty").hidden = false;
    } else {
      const photosText = count === 1 ? " photo" : " photos";
      summary.textContent = count.toLocaleString("en") + photosText + " with a location.";
    }
  }

  function failed(error) {
    summary.hidden = false;
    summary.textContent =
      "The photos could not be loaded (" + error.message + "); reload the page to try again.";
  }

  // 6. The world first: how many photos there are, and where, to zoom to them (not too
  //    close when there is only one). When they all came back one by one, they are
  //    drawn at once; clusters are asked again for the box the map then shows.
  ask(WORLD)
    .then(function (world) {
      describe(world.photo_count);
      if (world.features.length > 0) {
        const bounds = L.latLngBounds(world.features.map(latLngOf));
        map.fitBounds(bounds, { padding: [30, 30], maxZoom: 14, animate: false });
      }
      map.on("moveend", function () {
        showVisibleBox().catch(failed);
      });
      if (world.clustered) {
        return showVisibleBox();
      }
      drawAnswer(world);
    })
    .then(function () {
      // For the browser tests: the map is drawn.
      container.dataset.ready = "true";
    })
    .catch(failed);
})();

/* nnscratch playground, the drawing: the boundary heat map with its points, the hidden units'
   and weights' tiles, the curves (read by pointing), the confusion matrix. It draws only numbers
   the server computed; app.js holds the state and the controls. */
"use strict";

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/* ---- drawing ------------------------------------------------------------------------- */
function rgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

/* purple for positive, green for negative, white at 0: never the classes' colours, so that a
   neuron's value or a weight is not read as a class */
const PLUS = [123, 50, 148], MINUS = [27, 158, 119];
function diverging(value) {
  const v = Math.max(-1, Math.min(1, value));
  const end = v >= 0 ? PLUS : MINUS;
  const a = Math.abs(v);
  return end.map((c) => Math.round(255 + (c - 255) * a));
}

function fmt(x, digits = 4) {
  return x === null || x === undefined ? "\u2013" : Number(x).toFixed(digits);
}

/* a canvas drawn in CSS pixels at the screen's density, sharp on a projector laptop or a phone:
   its backing store is devicePixelRatio times its CSS size; returns [context, width, height] */
function sharp(canvas) {
  if (!canvas.dataset.width) {
    canvas.dataset.width = canvas.getAttribute("width");
    canvas.dataset.height = canvas.getAttribute("height");
    canvas.style.width = canvas.dataset.width + "px";
  }
  const w = Number(canvas.dataset.width), h = Number(canvas.dataset.height);
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return [ctx, w, h];
}

function draw(state) {
  app.state = state;
  const curves = state.curves;
  const last = (list) => (list.length ? list[list.length - 1] : null);
  $("epoch-count").textContent = state.epoch;
  $("iteration-count").textContent = state.iteration;
  $("steps-per-second").textContent = app.rate ? Math.round(app.rate).toLocaleString() : "\u2013";
  $("loss-value").textContent = fmt(state.last_loss);
  $("train-acc").textContent = fmt(last(curves.train_acc), 3);
  $("test-acc").textContent = fmt(last(curves.test_acc), 3);
  $("lr-value").textContent = Number(state.lr).toPrecision(3);
  const planar = Boolean(state.boundary);
  $("boundary-view").hidden = !planar;
  $("units-view").hidden = !planar;
  $("weights-view").hidden = planar;
  $("digit-view").hidden = planar || app.values.dataset !== "digits";
  if (planar) {
    drawBoundary(state.boundary);
    drawNetwork(state.network, app.setup.grid.unit_cells);
  } else {
    const [h, w] = state.weights.shape;
    drawTiles($("weights"), state.weights.images, h, w, 40);
  }
  drawCurves();
  drawConfusion(state.confusion);
  if (state.diverged) showError(state.diverged);
}

function drawBoundary(boundary) {
  const [ctx, W, H] = sharp($("boundary"));
  const grid = app.setup.grid;
  const n = grid.cells;
  const k = app.setup.n_classes;
  const image = new ImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const colour = rgb(PALETTE[boundary.classes[i] % PALETTE.length]);
    /* the colour's strength: 0 at chance (1/k), full when the network is sure */
    const a = 0.15 + 0.6 * Math.max(0, (boundary.confidence[i] - 1 / k) / (1 - 1 / k));
    for (let c = 0; c < 3; c++) image.data[4 * i + c] = Math.round(255 + (colour[c] - 255) * a);
    image.data[4 * i + 3] = 255;
  }
  const cells = document.createElement("canvas");
  cells.width = cells.height = n;
  cells.getContext("2d").putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;  // the cells blended: a smooth boundary, not blocks
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(cells, 0, 0, W, H);
  const px = (x) => ((x - grid.x_min) / (grid.x_max - grid.x_min)) * W;
  const py = (y) => ((grid.y_max - y) / (grid.y_max - grid.y_min)) * H;
  for (const [name, stroke] of [["train", "#ffffff"], ["test", "#000000"]]) {
    for (const [x, y, t] of app.setup.points[name]) {
      ctx.beginPath();
      ctx.arc(px(x), py(y), 3.2, 0, 2 * Math.PI);
      ctx.fillStyle = PALETTE[t % PALETTE.length];
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = stroke;
      ctx.stroke();
    }
  }
}

/* one small heat map per unit, each scaled by its own largest |value| */
function drawTiles(container, tiles, rows, cols, size) {
  while (container.children.length > tiles.length) container.lastChild.remove();
  while (container.children.length < tiles.length) {
    const canvas = document.createElement("canvas");
    canvas.className = "tile";
    container.appendChild(canvas);
  }
  tiles.forEach((values, j) => {
    const canvas = container.children[j];
    canvas.width = cols;
    canvas.height = rows;
    canvas.style.width = size + "px";
    canvas.style.height = Math.round((size * rows) / cols) + "px";
    canvas.title = `unit ${j + 1}`;
    const scale = Math.max(1e-12, ...values.map(Math.abs));
    const image = new ImageData(cols, rows);
    values.forEach((v, i) => {
      const [r, g, b] = diverging(v / scale);
      image.data.set([r, g, b, 255], 4 * i);
    });
    canvas.getContext("2d").putImageData(image, 0, 0);
  });
}

/* ---- the whole network: inputs, every hidden layer's neurons, the classes, the weights --------- */
const TILE = 36;

function column(head) {
  const div = document.createElement("div");
  div.className = "column";
  const label = document.createElement("div");
  label.className = "head";
  label.append(head);
  div.appendChild(label);
  return div;
}

function sizeButton(text, layer, change) {
  const button = document.createElement("button");
  button.textContent = text;
  button.addEventListener("click", () => changeHidden(layer, change));
  return button;
}

function drawNetwork(network, cells) {
  const columns = $("columns");
  columns.textContent = "";
  /* every input feature over the plane; the ones the network takes are joined to it, a click
     feeds one in or leaves it out (TensorFlow Playground's inputs) */
  const features = network.inputs;
  const inputs = column(t("layer.inputs"));
  columns.appendChild(inputs);
  tilesInto(inputs, features.values, cells, (j) => t("feature.tip", {
    name: t("choice." + features.names[j], {}, features.names[j]) }));
  [...inputs.querySelectorAll("canvas")].forEach((tile, j) => {
    const name = features.names[j];
    tile.dataset.feature = name;
    tile.classList.remove("unit");
    tile.classList.add("feature");
    const row = document.createElement("div");  // the feature's formula beside its tile
    row.className = "feature-row";
    row.classList.toggle("off", !features.used.includes(name));
    const label = document.createElement("span");
    label.textContent = t("choice." + name, {}, name);
    tile.replaceWith(row);
    row.append(label, tile);
    row.addEventListener("click", () => toggleFeature(name));
  });
  network.units.forEach((units, l) => {
    const col = column(t("layer.hidden", { n: l + 1 }) + " ");
    col.firstChild.append(sizeButton("+", l, 1), " ", sizeButton("\u2212", l, -1));
    columns.appendChild(col);
    tilesInto(col, units, cells, (j, values) => t("neuron", {
      layer: l + 1, neuron: j + 1,
      low: Math.min(...values).toFixed(2), high: Math.max(...values).toFixed(2) }));
  });
  const outputs = column(t("layer.outputs"));
  for (let c = 0; c < app.setup.n_classes; c++) {
    const swatch = document.createElement("div");
    swatch.className = "out-class unit";
    swatch.style.background = PALETTE[c % PALETTE.length];
    swatch.title = String(c);
    outputs.appendChild(swatch);
  }
  columns.appendChild(outputs);
  drawLinks(network.weights, features.used);
}

function tilesInto(col, maps, cells, title) {
  maps.forEach((values, j) => {
    const canvas = document.createElement("canvas");
    canvas.className = "tile unit";
    canvas.width = canvas.height = cells;
    canvas.style.width = canvas.style.height = TILE + "px";
    canvas.title = title(j, values);
    const scale = Math.max(1e-12, ...values.map(Math.abs));
    const image = new ImageData(cells, cells);
    values.forEach((v, i) => image.data.set([...diverging(v / scale), 255], 4 * i));
    canvas.getContext("2d").putImageData(image, 0, 0);
    col.appendChild(canvas);
  });
}

/* a line per weight, from a neuron to one of the next layer: its colour the sign, its width the
   size (against the layer's largest), its value on hover */
function drawLinks(weights, used) {
  const svg = $("links"), box = $("network").getBoundingClientRect();
  const NS = "http://www.w3.org/2000/svg";
  svg.textContent = "";
  svg.setAttribute("width", $("network").scrollWidth);
  svg.setAttribute("height", $("network").scrollHeight);
  /* every neuron's place read first, in one layout: reading them between the lines drawn
     would lay the page out again for each line */
  const places = [...$("columns").children].map((c) => [...c.querySelectorAll(".unit")].map(
    (unit) => unit.getBoundingClientRect()));
  /* W1's rows are the features the network takes, in their order */
  const inputs = $("columns").firstChild;
  places[0] = used.map((name) => [...inputs.querySelectorAll("canvas")].find(
    (tile) => tile.dataset.feature === name).getBoundingClientRect());
  const lines = document.createDocumentFragment();
  weights.forEach((w, l) => {
    const most = Math.max(1e-12, ...w.flat().map(Math.abs));
    w.forEach((row, i) => row.forEach((value, j) => {
      const a = places[l][i], b = places[l + 1][j];
      const line = document.createElementNS(NS, "line");
      line.setAttribute("x1", a.right - box.left);
      line.setAttribute("y1", a.top + a.height / 2 - box.top);
      line.setAttribute("x2", b.left - box.left);
      line.setAttribute("y2", b.top + b.height / 2 - box.top);
      line.setAttribute("stroke", value >= 0 ? "#7b3294" : "#1b9e77");
      line.setAttribute("stroke-width", (0.3 + 3 * Math.abs(value) / most).toFixed(2));
      line.setAttribute("stroke-opacity", (0.25 + 0.6 * Math.abs(value) / most).toFixed(2));
      const title = document.createElementNS(NS, "title");
      title.textContent = t("weight", { value: Number(value).toFixed(3) });
      line.appendChild(title);
      lines.appendChild(line);
    }));
  });
  svg.appendChild(lines);
}

const SERIES = [["epoch_loss", "train loss", "#1f77b4", "loss"],
                ["test_loss", "test loss", "#ff7f0e", "loss"],
                ["train_acc", "train accuracy", "#1f77b4", "acc"],
                ["test_acc", "test accuracy", "#ff7f0e", "acc"]];
const PANELS = { loss: [10, 135], acc: [160, 285] };

function drawCurves(hover) {
  const [ctx, W, H] = sharp($("curves"));
  const curves = app.state.curves;
  const epochs = curves.epoch.length;  // the epochs sent: every one, or evenly spaced ones
  const last = epochs ? curves.epoch[epochs - 1] : 1;
  ctx.clearRect(0, 0, W, H);
  const left = 40, right = W - 10;
  // point i is epoch curves.epoch[i], placed along [epoch 1, last epoch]
  const x = (i) => left + (last > 1 ? ((curves.epoch[i] - 1) / (last - 1)) * (right - left) : 0);
  const finite = (v) => v !== null && Number.isFinite(v);
  const losses = [...curves.epoch_loss, ...curves.test_loss].filter((v) => finite(v) && v > 0);
  const lossMax = losses.length ? Math.max(1e-9, ...losses) : 1;
  /* a log scale for the loss (a checkbox): one spike no longer flattens the rest */
  const log = $("log-loss").checked && losses.length > 0;
  const lossMin = log ? Math.max(1e-9, Math.min(...losses)) : 0;
  const lossY = (v, top, bottom) => (log
    ? bottom - (Math.log(Math.max(v, lossMin) / lossMin) / Math.log(Math.max(lossMax / lossMin, 1.0001))) * (bottom - top)
    : bottom - (Math.min(v, lossMax) / lossMax) * (bottom - top));
  ctx.font = "11px sans-serif";
  for (const [panel, [top, bottom]] of Object.entries(PANELS)) {
    const high = panel === "loss" ? lossMax : 1;
    ctx.setLineDash([]);  // the frame solid, whatever the last curve drew
    ctx.strokeStyle = "#bbb";
    ctx.strokeRect(left, top, right - left, bottom - top);
    ctx.fillStyle = "#333";
    ctx.fillText(panel === "loss" ? fmt(high, 2) : "1", 4, top + 9);
    ctx.fillText(panel === "loss" && log ? fmt(lossMin, 3) : "0", 4, bottom);
    ctx.fillText(t(panel === "loss" ? "curves.loss" : "curves.accuracy"), left + 4, top + 12);
    for (const [key, , colour, which] of SERIES) {
      if (which !== panel) continue;
      ctx.strokeStyle = colour;
      ctx.setLineDash(key.startsWith("test") ? [4, 3] : []);
      ctx.beginPath();
      curves[key].forEach((v, e) => {
        if (!finite(v)) return;
        const y = panel === "loss" ? lossY(v, top, bottom)
          : bottom - (Math.min(v, high) / high) * (bottom - top);
        if (e === 0) ctx.moveTo(x(e), y); else ctx.lineTo(x(e), y);
      });
      ctx.stroke();
    }
  }
  ctx.setLineDash([]);
  ctx.fillStyle = "#333";  // the epoch axis: its first and last epoch
  ctx.fillText("1", left, PANELS.acc[1] + 12);
  ctx.textAlign = "right";
  ctx.fillText(`${t("curves.epoch")} ${last}`, right, PANELS.acc[1] + 12);
  ctx.textAlign = "left";
  if (hover !== undefined && epochs) {
    ctx.strokeStyle = "#888";
    ctx.beginPath();
    ctx.moveTo(x(hover), PANELS.loss[0]);
    ctx.lineTo(x(hover), PANELS.acc[1]);
    ctx.stroke();
  }
}

function hoverCurves(event) {
  const tooltip = $("tooltip");
  const curves = app.state ? app.state.curves : null;
  if (!curves || !curves.epoch.length) return;
  const canvas = $("curves");
  const box = canvas.getBoundingClientRect();
  const width = Number(canvas.dataset.width || canvas.width);
  const fraction = ((event.clientX - box.left) * (width / box.width) - 40) / (width - 50);
  const last = curves.epoch[curves.epoch.length - 1];
  const pointed = 1 + fraction * (last - 1);  // the epoch under the pointer
  let e = 0;  // the point nearest to it
  curves.epoch.forEach((epoch, i) => {
    if (Math.abs(epoch - pointed) < Math.abs(curves.epoch[e] - pointed)) e = i;
  });
  drawCurves(e);
  tooltip.textContent = `${t("curves.epoch")} ${curves.epoch[e]}\n` + SERIES.map(
    ([key]) => `${t("series." + key)}: ${fmt(app.state.curves[key][e])}`).join("\n");
  tooltip.style.left = event.clientX - box.left + 12 + "px";
  tooltip.style.top = event.clientY - box.top + 12 + "px";
  tooltip.hidden = false;
}

function drawConfusion(matrix) {
  const table = $("confusion");
  table.textContent = "";
  const most = Math.max(1, ...matrix.flat());
  const head = table.insertRow();
  head.insertCell().textContent = "";
  matrix.forEach((_, j) => { head.insertCell().textContent = j; });
  matrix.forEach((row, i) => {
    const tr = table.insertRow();
    tr.insertCell().textContent = i;
    row.forEach((count, j) => {
      const cell = tr.insertCell();
      cell.textContent = count;
      const a = count / most;
      cell.style.background = i === j ? `rgba(44,160,44,${a})` : `rgba(214,39,40,${a})`;
    });
  });
}

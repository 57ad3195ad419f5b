/* nnscratch playground: the page only draws what the server computed (the library's own
   network, optimizer and Trainer). Every setting lives in the query string, so a link
   reproduces the setup. Plain JavaScript, no build step, nothing from another host. */
"use strict";

const app = { table: [], values: {}, id: null, setup: null, state: null, playing: false,
              queue: Promise.resolve(), pending: 0, restartTimer: null,
              strings: {}, lang: "en", asked: 0, applied: 0 };

/* ---- language: English or Chinese, in the URL (lang=), else the browser's ---------------- */
function t(key, fields, fallback) {
  const table = app.strings[app.lang] || app.strings.en || {};
  let text = table[key] !== undefined ? table[key] : (fallback !== undefined ? fallback : key);
  for (const [name, value] of Object.entries(fields || {})) text = text.replace(`{${name}}`, value);
  return text;
}

function chooseLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  const browser = (navigator.language || "").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
  app.lang = app.strings[asked] ? asked : browser;
}

function applyLanguage() {
  document.documentElement.lang = app.lang;
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of document.querySelectorAll("[data-i18n-title]")) {
    element.title = t(element.dataset.i18nTitle);
  }
  document.title = t("title");
  $("play").textContent = t(app.playing ? "pause" : "play");
}

const $ = (id) => document.getElementById(id);

/* ---- talking to the server ------------------------------------------------------------- */
async function call(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) {
    const error = new Error(data.error || response.statusText);
    error.status = response.status;
    throw error;
  }
  return data;
}

/* One request at a time, in the order asked: a setting changed while a step is in flight is
   applied after that step returns, so the form, the URL and the network never disagree. */
function serial(task) {
  app.pending += 1;
  const run = app.queue.then(task).finally(() => { app.pending -= 1; });
  app.queue = run.catch(() => {});
  return run;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

/* ---- settings: the form is built from the server's table ------------------------------- */
function readQuery() {
  const query = new URLSearchParams(location.search);
  for (const s of app.table) {
    app.values[s.name] = query.has(s.name) ? query.get(s.name)
      : (s.default === null ? "" : String(s.default));
    /* names in the form's order, as the checkboxes read them: "x2, x1" is x1,x2 (unknown ones
       left as typed, for the server to name) */
    if (s.kind === "names") {
      const given = app.values[s.name].split(",").map((v) => v.trim());
      if (given.every((v) => s.choices.includes(v))) {
        app.values[s.name] = s.choices.filter((c) => given.includes(c)).join(",");
      }
    }
  }
}

function writeQuery() {
  const query = new URLSearchParams();
  if (new URLSearchParams(location.search).has("lang")) query.set("lang", app.lang);
  for (const s of app.table) {
    const value = app.values[s.name];
    if (value !== (s.default === null ? "" : String(s.default))) query.set(s.name, value);
  }
  const text = query.toString();
  history.replaceState(null, "", location.pathname + (text ? "?" + text : ""));
}

function buildForm() {
  const aside = $("settings");
  aside.textContent = "";
  const groups = {};
  for (const s of app.table) {
    if (!groups[s.group]) {
      const fieldset = document.createElement("fieldset");
      const legend = document.createElement("legend");
      legend.textContent = t("group." + s.group);
      fieldset.appendChild(legend);
      aside.appendChild(fieldset);
      groups[s.group] = fieldset;
    }
    /* a field of several checkboxes is no <label>: a click on its name would tick the first */
    const label = document.createElement(s.kind === "names" ? "div" : "label");
    label.className = "field";
    const zh = app.lang === "zh-CN";
    label.append((zh && s.label_zh) || s.label);
    let input;
    if (s.kind === "choice") {
      input = document.createElement("select");
      for (const choice of s.choices) input.add(new Option(t("choice." + choice, {}, choice), choice));
    } else if (s.kind === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
    } else if (s.kind === "names") {
      input = namesField(s);
    } else {
      input = document.createElement("input");
      input.type = s.kind === "sizes" ? "text" : "number";
      if (s.kind !== "sizes") {
        input.min = s.low;
        input.max = s.high;
        input.step = s.kind === "int" ? "1" : "any";
      }
      if (s.default === null) input.placeholder = t("default");
    }
    input.id = "setting-" + s.name;
    input.name = s.name;
    setInput(input, s, app.values[s.name]);
    input.addEventListener("change", () => {
      app.values[s.name] = readInput(input, s);
      writeQuery();
      restartSoon();
    });
    label.appendChild(input);
    const help = document.createElement("small");  // a one-line explanation under the control
    help.className = "help";
    help.textContent = (zh && s.help_zh) || s.help || "";
    label.appendChild(help);
    groups[s.group].appendChild(label);
  }
}

/* some of the choices, each once (the input features): a checkbox each; the last one ticked
   stays ticked (a network takes at least one input) */
function namesField(s) {
  const field = document.createElement("span");
  field.className = "names";
  field.setAttribute("role", "group");
  for (const choice of s.choices) {
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = choice;
    box.addEventListener("change", (event) => {
      if (!field.querySelector("input:checked")) { box.checked = true; event.stopPropagation(); }
    });
    const item = document.createElement("label");
    item.append(box, t("choice." + choice, {}, choice));
    field.appendChild(item);
  }
  return field;
}

function readInput(input, s) {
  if (s.kind === "bool") return String(input.checked);
  if (s.kind === "names") return [...input.querySelectorAll("input:checked")].map((b) => b.value).join(",");
  return input.value.trim();
}

function setInput(input, s, value) {
  if (s.kind === "bool") input.checked = value === "true" || value === "1";
  else if (s.kind === "names") {
    const chosen = String(value).split(",").map((v) => v.trim());
    for (const box of input.querySelectorAll("input")) box.checked = chosen.includes(box.value);
  } else input.value = value;
}

/* a feature's tile in the network clicked: fed in, or left out (never the last one) */
function toggleFeature(name) {
  const s = app.table.find((row) => row.name === "features");
  const input = $("setting-features");
  const box = [...input.querySelectorAll("input")].find((b) => b.value === name);
  if (box.checked && input.querySelectorAll("input:checked").length === 1) return;
  box.checked = !box.checked;
  app.values.features = readInput(input, s);
  writeQuery();
  restartSoon();
}

function settingsBody() {
  const body = {};
  for (const s of app.table) {
    const value = app.values[s.name];
    if (value === "" && s.default === null) continue;
    body[s.name] = value;
  }
  return body;
}

/* + / − for a layer's neurons and for layers: the hidden setting edited, as typed in its field */
const LIMITS = { layers: 6, width: 64 };

function changeHidden(layer, change) {
  const sizes = String(app.values.hidden || "").split(",").map(Number).filter((n) => n > 0);
  if (layer === "add") { if (sizes.length < LIMITS.layers) sizes.push(sizes[sizes.length - 1] || 4); }
  else if (layer === "remove") { if (sizes.length > 1) sizes.pop(); }
  else sizes[layer] = Math.max(1, Math.min(LIMITS.width, sizes[layer] + change));
  app.values.hidden = sizes.join(",");
  $("setting-hidden").value = app.values.hidden;
  writeQuery();
  restartSoon();
}

/* ---- session ------------------------------------------------------------------------- */
/* settings changed in a burst (five fields in a second) make one reset, with the last values */
const RESTART_DELAY = 150;

function restartSoon() {
  app.asked += 1;  // a setting changed: the network is out of date until a reset applies it
  clearTimeout(app.restartTimer);
  app.restartTimer = setTimeout(() => { app.restartTimer = null; restart(); }, RESTART_DELAY);
}

async function restart() {
  const wasPlaying = app.playing;
  pause();
  await serial(async () => {
    const asked = app.asked;  // the changes this reset applies
    const body = { settings: settingsBody() };  // the values when the reset is sent
    let answer;
    try {
      answer = app.id
        ? await call("POST", `/api/sessions/${app.id}/reset`, body)
        : await call("POST", "/api/sessions", body);
    } catch (error) {
      if (error.status !== 404) { showError(error.message); return; }
      app.id = null;  // its place was given to another tab: take a new one
      answer = await call("POST", "/api/sessions", body).catch((e) => { showError(e.message); });
      if (!answer) return;
    }
    if (answer.id) app.id = answer.id;
    app.setup = answer.setup;
    app.applied = asked;
    showError("");
    $("gradcheck-result").textContent = "";
    $("download-model").href = `/api/sessions/${app.id}/model.npz`;
    $("download-history").href = `/api/sessions/${app.id}/history.json`;
    checkAgreement(answer.setup.settings);
    /* a setting the run does not take (momentum for Adam, noise for the digits) is greyed out */
    for (const [name, takes] of Object.entries(answer.setup.applies)) {
      const input = $("setting-" + name);
      if (!input) continue;
      input.disabled = !takes;
      for (const box of input.querySelectorAll("input")) box.disabled = !takes;
      input.closest(".field").classList.toggle("unused", !takes);
    }
    draw(answer.state);
  });
  if (wasPlaying && !app.restartTimer) play();
}

/* the server echoes the settings its network was built with: the page says so if they are
   not the form's (they always are, unless a reset failed) */
function checkAgreement(echoed) {
  const form = settingsBody();
  const same = (a, b) => String(a) === String(b)
    || (String(b).trim() !== "" && Number(a) === Number(b));  // "0.010" is 0.01
  /* a setting the run does not take (momentum for Adam) is echoed as null */
  const differ = app.applied < app.asked ? []  // a newer change is on its way
    : Object.keys(form).filter((k) => echoed[k] !== null && !same(echoed[k], form[k]));
  $("mismatch").hidden = differ.length === 0;
  $("mismatch").textContent = differ.length
    ? t("mismatch", { names: differ.join(", ") }) : "";
}

async function advance(body) {
  if (!app.id) return;
  await serial(async () => {
    if (!app.id) return;
    try {
      const answer = await call("POST", `/api/sessions/${app.id}/step`, body);
      showError("");  // a success clears an earlier error
      app.rate = answer.done / Math.max(answer.seconds, 1e-3);
      draw(answer.state);
    } catch (error) {
      if (error.status === 503 && app.playing) {  // other tabs are computing: wait, go on
        showError(error.message);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return;
      }
      pause();
      if (error.status === 404) { app.id = null; restartSoon(); } else showError(error.message);
    }
  });
}

/* up to PLAY_STEPS mini-batch steps between two pictures (the server stops sooner on a large
   network: a request takes at most a quarter of a second) */
const PLAY_STEPS = 50;

async function playLoop() {
  while (app.playing && app.id) {
    await advance({ iterations: PLAY_STEPS });
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  if (!app.id) pause();  // no session to play (the page could not make one)
}

function play() {
  if (app.playing) return pause();
  app.playing = true;
  $("play").textContent = t("pause");
  playLoop();
}

function pause() {
  app.playing = false;
  $("play").textContent = t("play");
}

async function checkGradient() {
  if (!app.id) return;
  const wasPlaying = app.playing;
  pause();  // the check runs between two steps, then play goes on
  const table = $("gradcheck-result");
  table.textContent = t("checking");
  try {
    const result = await serial(() => call("POST", `/api/sessions/${app.id}/gradcheck`, {}));
    table.textContent = "";
    const caption = table.createCaption();
    caption.textContent = t("gradcheck.caption", { samples: result.samples, mode: result.mode });
    for (const [key, error] of Object.entries(result.errors)) {
      const row = table.insertRow();
      row.insertCell().textContent = key;
      row.insertCell().textContent = Number(error).toExponential(2);
      row.insertCell().textContent = error < 1e-6 ? "ok" : "check";
      row.className = error < 1e-6 ? "ok" : "bad";
    }
  } catch (error) {
    table.textContent = "";
    showError(error.message);
  }
  if (wasPlaying) play();
}

/* ---- draw a digit: the network's answer for it, as `nnscratch predict` prepares a picture -- */
function clearPad() {
  const ctx = $("digit-pad").getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, 96, 96);
  $("digit-probabilities").textContent = "";
}

function padPixels() {
  const data = $("digit-pad").getContext("2d").getImageData(0, 0, 96, 96).data;
  const rows = [];
  for (let i = 0; i < 96; i++) {
    const row = [];
    for (let j = 0; j < 96; j++) row.push(data[4 * (96 * i + j)]);  // gray: the red channel
    rows.push(row);
  }
  return rows;
}

async function classifyDrawing() {
  if (!app.id) return;
  try {
    const answer = await serial(() => call("POST", `/api/sessions/${app.id}/classify`,
                                            { pixels: padPixels() }));
    app.digit = answer;
    const table = $("digit-probabilities");
    table.textContent = "";
    const p = answer.probabilities, top = p.indexOf(Math.max(...p));
    p.forEach((value, k) => {
      const row = table.insertRow();
      if (k === top) row.className = "top";
      row.insertCell().textContent = k;
      const fill = document.createElement("span");
      fill.className = "fill";
      fill.style.width = Math.round(100 * value) + "px";
      row.insertCell().appendChild(fill);
      row.cells[1].className = "bar";
      row.insertCell().textContent = value.toFixed(3);
    });
  } catch (error) {
    showError(error.message);
  }
}

function setUpPad() {
  const pad = $("digit-pad"), ctx = pad.getContext("2d");
  let drawing = false;
  const at = (event) => {
    const box = pad.getBoundingClientRect();
    return [(event.clientX - box.left) * (96 / box.width), (event.clientY - box.top) * (96 / box.height)];
  };
  pad.addEventListener("pointerdown", (event) => {
    drawing = true;
    pad.setPointerCapture(event.pointerId);
    ctx.beginPath();
    ctx.moveTo(...at(event));
  });
  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    ctx.lineWidth = 9;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.strokeStyle = "#000";
    ctx.lineTo(...at(event));
    ctx.stroke();
  });
  const end = () => { if (drawing) { drawing = false; classifyDrawing(); } };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  $("digit-clear").addEventListener("click", clearPad);
  clearPad();
}

/* ---- start --------------------------------------------------------------------------- */
async function start() {
  $("play").addEventListener("click", play);
  $("step").addEventListener("click", () => { pause(); advance({ iterations: 1 }); });
  $("epoch").addEventListener("click", () => { pause(); advance({ epochs: 1 }); });
  $("reset").addEventListener("click", restart);
  $("add-layer").addEventListener("click", () => changeHidden("add"));
  $("log-loss").addEventListener("change", () => { if (app.state) drawCurves(); });
  setUpPad();
  $("remove-layer").addEventListener("click", () => changeHidden("remove"));
  /* space: play or pause; →: one step (not while typing in a field) */
  addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey) return;
    if (event.key === " ") { event.preventDefault(); play(); }
    else if (event.key === "ArrowRight") { event.preventDefault(); pause(); advance({ iterations: 1 }); }
  });
  $("gradcheck").addEventListener("click", checkGradient);
  $("curves").addEventListener("mousemove", hoverCurves);
  $("curves").addEventListener("mouseleave", () => { $("tooltip").hidden = true; drawCurves(); });
  /* a closed tab frees its session at once instead of waiting for the expiry */
  addEventListener("pagehide", () => {
    if (app.id) navigator.sendBeacon(`/api/sessions/${app.id}/close`, "");
  });
  try {
    const answer = await call("GET", "/api/settings");
    app.table = answer.settings;
    app.strings = answer.strings;
    LIMITS.layers = answer.limits.layers;
    LIMITS.width = answer.limits.width;
  } catch (error) {
    showError(error.message);
    return;
  }
  chooseLanguage();
  for (const [code, table] of Object.entries(app.strings)) $("lang").add(new Option(table.lang, code));
  $("lang").value = app.lang;
  $("lang").addEventListener("change", () => {
    app.lang = $("lang").value;
    const query = new URLSearchParams(location.search);
    query.set("lang", app.lang);  // remembered in the link
    history.replaceState(null, "", location.pathname + "?" + query.toString());
    applyLanguage();
    buildForm();
  });
  applyLanguage();
  readQuery();
  if (location.search) writeQuery();  // a link's values as the form holds them
  buildForm();
  restart();
}

start();

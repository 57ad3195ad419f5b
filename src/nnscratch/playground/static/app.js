/* nnscratch playground: the page only draws what the server computed (the library's own
   network, optimizer and Trainer). Every setting lives in the query string, so a link
   reproduces the setup. Plain JavaScript, no build step, nothing from another host. */
"use strict";

const app = { table: [], values: {}, id: null, setup: null, state: null, playing: false,
              busy: false, waited: false };

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
  }
}

function writeQuery() {
  const query = new URLSearchParams();
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
      legend.textContent = s.group;
      fieldset.appendChild(legend);
      aside.appendChild(fieldset);
      groups[s.group] = fieldset;
    }
    const label = document.createElement("label");
    label.textContent = s.label;
    label.title = s.help || "";
    let input;
    if (s.kind === "choice") {
      input = document.createElement("select");
      for (const choice of s.choices) input.add(new Option(choice, choice));
    } else if (s.kind === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
    } else {
      input = document.createElement("input");
      input.type = s.kind === "sizes" ? "text" : "number";
      if (s.kind !== "sizes") {
        input.min = s.low;
        input.max = s.high;
        input.step = s.kind === "int" ? "1" : "any";
      }
      if (s.default === null) input.placeholder = "default";
    }
    input.id = "setting-" + s.name;
    input.name = s.name;
    setInput(input, s, app.values[s.name]);
    input.addEventListener("change", () => {
      app.values[s.name] = s.kind === "bool" ? String(input.checked) : input.value.trim();
      writeQuery();
      restart();
    });
    label.appendChild(input);
    groups[s.group].appendChild(label);
  }
}

function setInput(input, s, value) {
  if (s.kind === "bool") input.checked = value === "true" || value === "1";
  else input.value = value;
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

/* ---- session ------------------------------------------------------------------------- */
async function restart() {
  pause();
  try {
    const answer = app.id
      ? await call("POST", `/api/sessions/${app.id}/reset`, { settings: settingsBody() })
      : await call("POST", "/api/sessions", { settings: settingsBody() });
    if (answer.id) app.id = answer.id;
    app.setup = answer.setup;
    showError("");
    $("gradcheck-result").textContent = "";
    $("download-model").href = `/api/sessions/${app.id}/model.npz`;
    $("download-history").href = `/api/sessions/${app.id}/history.json`;
    draw(answer.state);
  } catch (error) {
    if (error.status === 404) { app.id = null; return restart(); }
    showError(error.message);
  }
}

async function advance(body) {
  if (!app.id || app.busy) return;
  app.busy = true;
  try {
    draw((await call("POST", `/api/sessions/${app.id}/step`, body)).state);
    if (app.waited) { showError(""); app.waited = false; }
  } catch (error) {
    if (error.status === 503 && app.playing) {  // other tabs are computing: wait, go on
      showError(error.message);
      app.waited = true;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return;
    }
    pause();
    if (error.status === 404) { app.id = null; restart(); } else showError(error.message);
  } finally {
    app.busy = false;
  }
}

/* about PLAY_STEPS mini-batch steps between two pictures, in whole epochs */
const PLAY_STEPS = 50;

async function playLoop() {
  while (app.playing) {
    const perEpoch = app.state ? app.state.iter_per_epoch : 1;
    await advance({ epochs: Math.max(1, Math.round(PLAY_STEPS / perEpoch)) });
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

function play() {
  if (app.playing) return pause();
  app.playing = true;
  $("play").textContent = "\u275a\u275a pause";
  playLoop();
}

function pause() {
  app.playing = false;
  $("play").innerHTML = "&#9654; play";
}

async function checkGradient() {
  if (!app.id) return;
  const table = $("gradcheck-result");
  table.textContent = "checking\u2026";
  try {
    const result = await call("POST", `/api/sessions/${app.id}/gradcheck`, {});
    table.textContent = "";
    const caption = table.createCaption();
    caption.textContent = `relative error, ${result.samples} samples, ${result.mode}`;
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
}

/* ---- start --------------------------------------------------------------------------- */
async function start() {
  $("play").addEventListener("click", play);
  $("step").addEventListener("click", () => { pause(); advance({ iterations: 1 }); });
  $("epoch").addEventListener("click", () => { pause(); advance({ epochs: 1 }); });
  $("reset").addEventListener("click", restart);
  $("gradcheck").addEventListener("click", checkGradient);
  $("curves").addEventListener("mousemove", hoverCurves);
  $("curves").addEventListener("mouseleave", () => { $("tooltip").hidden = true; drawCurves(); });
  /* a closed tab frees its session at once instead of waiting for the expiry */
  addEventListener("pagehide", () => {
    if (app.id) navigator.sendBeacon(`/api/sessions/${app.id}/close`, "");
  });
  try {
    app.table = (await call("GET", "/api/settings")).settings;
  } catch (error) {
    showError(error.message);
    return;
  }
  readQuery();
  buildForm();
  restart();
}

start();

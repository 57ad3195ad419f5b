"""A lesson's worth of play: the playground in headless Chromium, playing spiral for 30 minutes
(``--minutes``), with a line a minute — steps and epochs so far, whether play goes on, the page's
error box and console errors, the server process's peak memory — and a last line with the
session's own count of steps, the per-step losses it keeps and its test accuracy.

Needs Debian's chromium and ``pip install playwright`` (as the browser tests). Run by hand:

    python benchmarks/playground_soak.py [--minutes 30] [--out soak.jsonl]
"""

import argparse
import json
import resource
import threading
import time

from playwright.sync_api import sync_playwright

from nnscratch.playground import PlaygroundServer

STATE = """() => ({iteration: app.state.iteration, epoch: app.state.epoch, playing: app.playing,
    error: document.getElementById('error').hidden ? null
        : document.getElementById('error').textContent,
    steps_per_second: Math.round(app.rate)})"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--query", default="?dataset=spiral&classes=3")
    parser.add_argument("--out", default=None, help="also write the lines to this file")
    args = parser.parse_args()
    out = open(args.out, "w") if args.out else None  # noqa: SIM115 - a log kept open for the run

    def say(record):
        line = json.dumps(record)
        print(line, flush=True)
        if out:
            print(line, file=out, flush=True)

    server = PlaygroundServer("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url + args.query)
        page.wait_for_function("app.id !== null && app.pending === 0", polling=100)
        page.click("#play")
        start = time.monotonic()
        while time.monotonic() - start < args.minutes * 60:
            time.sleep(min(60, args.minutes * 60))
            record = page.evaluate(STATE)
            record["minutes"] = round((time.monotonic() - start) / 60, 1)
            record["server_peak_rss_mb"] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            )
            record["console_errors"] = list(errors)
            say(record)
        page.click("#play")
        page.wait_for_function("app.pending === 0")
        session = server.store.sessions[page.evaluate("app.id")]
        history = session.trainer.history
        say(
            {
                "done": True,
                "steps": session.trainer.iteration,
                "losses_kept": len(history["train_loss"]),
                "epochs": len(history["train_acc"]),
                "test_acc": history["test_acc"][-1],
                "error_shown": not page.is_hidden("#error"),
                "console_errors": errors,
            }
        )
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The HTML report in a real headless Chromium, driven over the DevTools protocol.

usage: html_chromium_test.py <osprofiler binary> <trace file> <artefact dir>

Generates the report, loads it from file:// with the network watched, checks
that the tree, the time bars, the slowest points and the query summary render,
clicks the slowest query's row and checks its details, uses the filter box,
and keeps a screenshot (<artefact dir>/report.png). Exit 77: cannot run here.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

try:
    import websocket  # Debian: python3-websocket
except ImportError:
    print("SKIP: python3-websocket is not installed (scripts/install-deps.sh --test)")
    sys.exit(77)

CHROMIUM = "/usr/bin/chromium"


class DevTools:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mine:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def js(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("JS error in %r: %s" % (expression, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait_for(self, expression, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            if self.js(expression):
                return
            time.sleep(0.1)
        raise AssertionError("timed out waiting for: " + expression)

    def click(self, selector):
        box = self.js("(function(){var e=document.querySelector(%s);e.scrollIntoView({block:'center'});"
                      "var r=e.getBoundingClientRect();"
                      "return [r.left + r.width / 2, r.top + r.height / 2];})()" % json.dumps(selector))
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok -", what)


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    cli, trace_file, artefacts = sys.argv[1:]
    if not os.access(CHROMIUM, os.X_OK):
        print("SKIP: %s not found" % CHROMIUM)
        return 77
    os.makedirs(artefacts, exist_ok=True)
    html = os.path.join(artefacts, "report.html")
    subprocess.run([cli, "trace", "show", trace_file, "--html", "--out", html], check=True)

    profile = tempfile.mkdtemp(prefix="osprofiler-chromium-")
    browser = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--remote-debugging-port=0",
         "--window-size=1400,1000", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        end = time.time() + 30
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            if browser.poll() is not None or time.time() > end:
                raise RuntimeError("chromium did not start (exit %s)" % browser.poll())
            time.sleep(0.1)
        port = int(open(port_file).read().split("\n")[0])
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10))
        page = next(t for t in targets if t["type"] == "page")
        dt = DevTools(page["webSocketDebuggerUrl"])
        dt.call("Network.enable")
        dt.call("Page.enable")
        dt.call("Page.navigate", url="file://" + os.path.abspath(html))
        dt.wait_for("document.readyState === 'complete' && document.body && document.body.dataset.ready === '1'")

        # Offline: the page fetched nothing but itself.
        urls = [e["params"]["request"]["url"] for e in dt.events if e["method"] == "Network.requestWillBeSent"]
        check(urls and all(u.startswith("file:") or u.startswith("data:") for u in urls),
              "no network requests (%s)" % urls)
        errors = [e for e in dt.events if e["method"] == "Runtime.exceptionThrown"]
        check(not errors, "no JavaScript errors")

        rows = dt.js("document.querySelectorAll('#tree .row').length")
        check(rows == 20, "the tree shows all 20 points (%s)" % rows)
        check(dt.js("document.getElementById('title').textContent") == "Trace 6f1c2a1e-0000-4000-8000-000000000001",
              "the title names the base id")
        widths = dt.js("Array.from(document.querySelectorAll('#tree .row .bar')).map(function(b){return b.getBoundingClientRect().width;})")
        track = dt.js("document.querySelector('#tree .row .track').getBoundingClientRect().width")
        check(len(widths) == 20 and all(w >= 1 for w in widths), "every point has a visible time bar")
        check(abs(widths[0] - track) < 2, "the root's bar spans the whole axis (%.1f of %.1f)" % (widths[0], track))
        check(0.6 * track < widths[2] < 0.8 * track, "the 42 ms query's bar is 70%% of the axis (%.1f)" % widths[2])
        slow_left = dt.js("document.querySelectorAll('#tree .row .bar')[3].getBoundingClientRect().left")
        check(slow_left > dt.js("document.querySelectorAll('#tree .row .bar')[2].getBoundingClientRect().left") + 0.6 * track,
              "bars share one time axis (the N+1 loop starts after the slow query)")
        check(dt.js("document.querySelectorAll('#axis .tick').length") == 5, "the time axis has ticks")
        summary = dt.js("Array.from(document.querySelectorAll('#summary tbody tr')).map(function(r){return r.textContent;})")
        check(len(summary) == 4, "the query summary lists 4 shapes")
        check("SELECT id, total FROM orders WHERE customer_id = ? ORDER BY created DESC" in summary[0],
              "the slowest shape comes first")
        check("N+1" in summary[1] and summary[1].startswith("12"), "the N+1 loop is flagged with its count")
        check("12 \u00d7" in dt.js("document.getElementById('n1').textContent"), "the N+1 candidate is explained")
        slowest = dt.js("Array.from(document.querySelectorAll('#slowest tbody tr')).map(function(r){return r.textContent;})")
        check(len(slowest) >= 3 and "42.0 ms" in slowest[0], "the slowest points are listed, slowest first")
        check(dt.js("document.querySelectorAll('#tree .row.err').length") == 1, "the failed statement is marked")

        # Click the slow query's row: its details appear.
        dt.click("#tree .row[data-i='2'] .detail")
        dt.wait_for("document.querySelector('#details #stmt') !== null")
        details = dt.js("document.getElementById('details').textContent")
        check("SELECT id, total FROM orders WHERE customer_id = 17 ORDER BY created DESC" in details,
              "clicking a point shows its statement")
        check("db-start (raw payload)" in details and "\"namespace\": \"shop.db\"" in details,
              "the details show the raw payload")
        check(dt.js("document.querySelector('#tree .row.sel').getAttribute('data-i')") == "2", "the row is selected")

        # Click the failed statement: its error appears.
        dt.click("#tree .row.err .name")
        dt.wait_for("document.querySelector('#details .errbox') !== null")
        check("IntegrityError: UNIQUE constraint failed: audit.id" in dt.js("document.getElementById('details').textContent"),
              "clicking a failed point shows its error")

        # The filter box keeps matches and their ancestors.
        dt.js("(function(){var f=document.getElementById('filter');f.value='products';"
              "f.dispatchEvent(new Event('input'));})()")
        dt.wait_for("document.querySelectorAll('#tree .row').length === 13")
        check(dt.js("document.querySelectorAll('#tree .row.dim').length") == 1, "the filter shows 12 matches under their dimmed parent")
        dt.js("(function(){var f=document.getElementById('filter');f.value='';f.dispatchEvent(new Event('input'));})()")
        dt.wait_for("document.querySelectorAll('#tree .row').length === 20")

        # Collapse the root with its toggle.
        dt.click("#tree .row[data-i='0'] .tog")
        dt.wait_for("document.querySelectorAll('#tree .row').length === 1")
        dt.click("#tree .row[data-i='0'] .tog")
        dt.wait_for("document.querySelectorAll('#tree .row').length === 20")
        dt.click("#tree .row[data-i='2'] .detail")

        shot = dt.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        png = os.path.join(artefacts, "report.png")
        with open(png, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        check(os.path.getsize(png) > 10000, "screenshot kept: " + png)
        dt.ws.close()
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

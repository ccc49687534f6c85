#!/usr/bin/python3
"""Drive Debian's headless chromium over the DevTools protocol to watch the
site server's status page (tests/vm/92-site-status-page.sh).

  browser.py watch  --url URL --out DIR --mac MAC [--timeout S]
        Open the machine table and sample the row of the machine with MAC
        every 0.5 s (the page's own script re-renders it every 2 s from the
        API) until its state is "installed". Passes when the machine
        appeared, at least --min-phases distinct phases were seen, the
        progress bar's data-done grew during the image phase, and the final
        state is installed. Screenshots: DIR/NN-*.png.
  browser.py failed --url URL --out DIR --mac MAC [--phase P] [--error TEXT]
        Wait until the machine's row shows "failed", then check the phase,
        that the last error (containing TEXT) is shown and rendered red, and
        that the machine's own page shows the failed phase in its timeline.

Both print what they saw (one line per change) and exit 0 on success, 1 on
failure, 2 on usage errors. Every page request is recorded: anything that is
not http://127.0.0.1 (or data:/about:) fails the run.

chromium runs with --headless=new, a temporary profile, no background
networking, every host name mapped to nothing but 127.0.0.1, a proxy on an
unused loopback port (so a request that escaped the other rules still ends
on 127.0.0.1), and it is killed when this program ends. The DevTools
endpoint is chromium's own loopback port (--remote-debugging-port=0, read
from DevToolsActivePort).
"""

import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # python3-websocket

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def log(msg):
    print("[%s] browser: %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class BrowserError(Exception):
    pass


def _die_with_parent():
    """In chromium's child before exec: SIGKILL when this program dies, even
    by SIGKILL (chromium runs in a session of its own)."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _on_signal(signum, frame):
    raise BrowserError("stopped by signal %d" % signum)


class Browser:
    def __init__(self, out_dir, width=1400, height=900):
        self.profile = tempfile.mkdtemp(prefix="site-browser-")
        self.out_dir = out_dir
        self.requests = []
        self.console = []
        self.msg_id = 0
        self.loaded = False
        args = [
            CHROMIUM, "--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-domain-reliability", "--disable-client-side-phishing-detection",
            "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
            "--no-pings", "--safebrowsing-disable-auto-update", "--disable-features=Translate,OptimizationHints,MediaRouter",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
            "--user-data-dir=" + self.profile, "--remote-debugging-port=0",
            "--window-size=%d,%d" % (width, height), "about:blank",
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        self.stderr = open(os.path.join(out_dir, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.stderr, stderr=self.stderr, stdin=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 60
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            if self.proc.poll() is not None:
                raise BrowserError("chromium exited with status %d (see chromium.log)" % self.proc.returncode)
            if time.time() > deadline:
                raise BrowserError("chromium did not open its DevTools port within 60 s")
            time.sleep(0.2)
        time.sleep(0.2)
        port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10))
        pages = [t for t in targets if t.get("type") == "page"]
        if not pages:
            raise BrowserError("chromium shows no page target")
        ws_url = pages[0]["webSocketDebuggerUrl"]
        if not ws_url.startswith("ws://127.0.0.1:"):
            raise BrowserError("unexpected DevTools address %s" % ws_url)
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.call("Page.enable")
        self.call("Network.enable")
        self.call("Runtime.enable")
        self.call("Log.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def _event(self, msg):
        method = msg.get("method")
        params = msg.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Page.loadEventFired":
            self.loaded = True
        elif method == "Runtime.consoleAPICalled":
            self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            self.console.append("exception: %s %s" % (d.get("text"), d.get("exception", {}).get("description", "")))
        elif method == "Log.entryAdded":
            self.console.append(params.get("entry", {}).get("text", ""))

    def call(self, method, **params):
        self.msg_id += 1
        mid = self.msg_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        deadline = time.time() + 30
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise BrowserError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self._event(msg)
        raise BrowserError("%s: no answer within 30 s" % method)

    def pump(self, seconds):
        """Read events for a while (requests made by the page's script)."""
        end = time.time() + seconds
        while True:
            left = end - time.time()
            if left <= 0:
                return
            self.ws.settimeout(left)
            try:
                self._event(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                return
            finally:
                self.ws.settimeout(30)

    def navigate(self, url):
        self.loaded = False
        r = self.call("Page.navigate", url=url)
        if r.get("errorText"):
            raise BrowserError("navigate %s: %s" % (url, r["errorText"]))
        deadline = time.time() + 30
        while not self.loaded and time.time() < deadline:
            self.pump(0.2)
        if not self.loaded:
            raise BrowserError("%s did not load within 30 s" % url)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise BrowserError("evaluate failed: %s" % r["exceptionDetails"].get("text"))
        return r.get("result", {}).get("value")

    def screenshot(self, name):
        r = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path = os.path.join(self.out_dir, name)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        log("screenshot %s" % path)
        return path

    def foreign_requests(self, base):
        return [u for u in self.requests
                if not (u.startswith(base) or u.startswith("data:") or u.startswith("about:"))]

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        except Exception:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            except Exception:
                pass
        self.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)


# What a test reads from the table: the row of one machine (by MAC), from
# the data attributes the page (server-rendered or re-rendered) carries.
ROW_JS = r"""
(() => {
  const mac = %s;
  const rows = Array.from(document.querySelectorAll('#machines-body tr[data-machine]'));
  const tr = rows.find((r) => (r.querySelector('td.mac') || {}).textContent === mac);
  if (!tr) return { rows: rows.length, found: false, js: document.documentElement.classList.contains('js') };
  const bar = tr.querySelector('progress');
  const err = tr.querySelector('td.error');
  const errText = tr.querySelector('.error-text');
  const times = Array.from(tr.querySelectorAll('time'));
  return {
    rows: rows.length, found: true, js: document.documentElement.classList.contains('js'),
    id: tr.dataset.machine, state: tr.dataset.state, phase: tr.dataset.phase,
    badge: (tr.querySelector('.badge') || {}).textContent || '',
    progress: bar ? { done: Number(bar.dataset.done), total: Number(bar.dataset.total),
                      text: (tr.querySelector('.progress-text') || {}).textContent || '' } : null,
    error: err ? err.textContent : '',
    errorColor: errText ? getComputedStyle(errText).color : '',
    errorCellClass: err ? err.className : '',
    localTimes: times.length > 0 && times.every((t) => t.dataset.local === '1'),
    live: (document.getElementById('live') || {}).textContent || '',
  };
})()
"""


def row(b, mac):
    return b.eval(ROW_JS % json.dumps(mac))


def is_red(css_color):
    # "rgb(192, 22, 28)": red dominates.
    try:
        r, g, bl = [int(x) for x in css_color[css_color.index("(") + 1:css_color.index(")")].split(",")[:3]]
    except ValueError:
        return False
    return r >= 150 and g < 100 and bl < 100


def cmd_watch(b, a):
    base = a.url.rstrip("/") + "/"
    b.navigate(base)
    b.screenshot("01-empty-or-before.png")
    deadline = time.time() + a.timeout
    phases, dones, states = [], [], []
    shots = {"appeared": False, "image": False, "image-later": False}
    last = None
    first_done = None
    while time.time() < deadline:
        b.pump(0.5)
        r = row(b, a.mac)
        if not r["found"]:
            continue
        key = (r["state"], r["phase"], (r["progress"] or {}).get("done"))
        if key != last:
            log("machine %s: state=%s phase=%s progress=%s error=%r" % (
                r["id"], r["state"], r["phase"], r["progress"] and r["progress"]["text"], r["error"]))
            last = key
        if not r["js"]:
            log("the page's script is not running")
        if not shots["appeared"]:
            shots["appeared"] = True
            b.screenshot("02-machine-appeared.png")
        if r["state"] and (not states or states[-1] != r["state"]):
            states.append(r["state"])
        if r["phase"] and (not phases or phases[-1] != r["phase"]):
            phases.append(r["phase"])
        if r["phase"] == "image" and r["progress"]:
            d = r["progress"]["done"]
            if not dones or dones[-1] != d:
                dones.append(d)
            if not shots["image"]:
                shots["image"] = True
                first_done = d
                b.screenshot("03-image-progress.png")
            elif not shots["image-later"] and d > first_done:
                shots["image-later"] = True
                b.screenshot("04-image-progress-later.png")
        if r["state"] == "installed":
            b.pump(1)
            b.screenshot("05-installed.png")
            b.navigate(base + "machines/" + r["id"])
            b.pump(3)  # the script draws the timeline and the events
            b.screenshot("06-machine-page-installed.png")
            detail = b.eval(r"""(() => ({
              phases: Array.from(document.querySelectorAll('#timelines tr[data-phase]')).map((t) => t.dataset.phase),
              events: document.querySelectorAll('#events-body tr').length,
              disks: document.querySelectorAll('#inventory-disks tbody tr').length,
              state: document.getElementById('summary').dataset.state }))()""")
            log("machine page: state %s, %d events, timeline %s, %d disks in the inventory" % (
                detail["state"], detail["events"], ",".join(detail["phases"]), detail["disks"]))
            break
    ok = True
    distinct = list(dict.fromkeys(phases))
    log("states seen: %s" % " -> ".join(states))
    log("phases seen: %s" % " -> ".join(phases))
    log("image progress data-done values: %s" % ", ".join(str(d) for d in dones))
    if not shots["appeared"]:
        log("FAIL: the machine never appeared in the table")
        return 1
    if not states or states[-1] != "installed":
        log("FAIL: the machine did not reach installed within %d s" % a.timeout)
        ok = False
    if len(distinct) < a.min_phases:
        log("FAIL: only %d distinct phases seen (want >= %d)" % (len(distinct), a.min_phases))
        ok = False
    if "image" not in distinct:
        log("FAIL: the image phase was never shown")
        ok = False
    if len(dones) < 2 or not any(y > x for x, y in zip(dones, dones[1:])):
        log("FAIL: the progress bar's done value did not increase during the image phase")
        ok = False
    if ok and (detail["state"] != "installed" or "image" not in detail["phases"] or detail["events"] == 0):
        log("FAIL: the machine page lacks the timeline or the events")
        ok = False
    if ok and a.inventory and detail["disks"] == 0:
        log("FAIL: the machine page shows no disk of the inventory")
        ok = False
    if ok:
        # The phases the table showed, in the order the timeline has them.
        order = [p for p in detail["phases"] if p != "install"]
        pos = [order.index(p) if p in order else -1 for p in distinct if p != "install"]
        if -1 in pos or pos != sorted(pos):
            log("FAIL: the phases shown (%s) are not the install's phases in order (%s)" % (
                ",".join(distinct), ",".join(order)))
            ok = False
    return 0 if ok else 1


def cmd_failed(b, a):
    base = a.url.rstrip("/") + "/"
    b.navigate(base)
    b.screenshot("09-before-the-failure.png")
    deadline = time.time() + a.timeout
    r = None
    last = None
    while time.time() < deadline:
        b.pump(0.5)
        r = row(b, a.mac)
        if r["found"]:
            key = (r["state"], r["phase"], r["error"])
            if key != last:
                log("machine %s: state=%s phase=%s error=%r" % (r["id"], r["state"], r["phase"], r["error"]))
                last = key
            if r["state"] == "failed":
                break
    b.pump(1)
    b.screenshot("10-failed.png")
    if not r or not r["found"] or r["state"] != "failed":
        log("FAIL: the machine did not show failed within %d s" % a.timeout)
        return 1
    ok = True
    if a.phase and r["phase"] != a.phase:
        log("FAIL: the failing phase shown is %r, not %r" % (r["phase"], a.phase))
        ok = False
    if not r["error"] or (a.error and a.error.lower() not in r["error"].lower()):
        log("FAIL: the last error shown is %r (want it to contain %r)" % (r["error"], a.error))
        ok = False
    if not is_red(r["errorColor"]) or "has-error" not in r["errorCellClass"]:
        log("FAIL: the error is not highlighted in red (color %s, class %s)" % (r["errorColor"], r["errorCellClass"]))
        ok = False
    else:
        log("the error is shown in %s" % r["errorColor"])
    b.navigate(base + "machines/" + r["id"])
    b.pump(3)
    b.screenshot("11-machine-page-failed.png")
    d = b.eval(r"""(() => ({
      failed: Array.from(document.querySelectorAll('#timelines tr[data-result="failed"]')).map((t) => t.dataset.phase),
      error: (document.querySelector('#summary .error-text') || {}).textContent || '',
      errorEvents: document.querySelectorAll('#events-body tr.type-error').length }))()""")
    log("machine page: failed phases %s, %d error events, error %r" % (d["failed"], d["errorEvents"], d["error"]))
    if a.phase and a.phase not in d["failed"]:
        log("FAIL: the machine page's timeline does not mark %s failed" % a.phase)
        ok = False
    if not d["error"]:
        log("FAIL: the machine page does not show the error")
        ok = False
    return 0 if ok else 1


def cmd_shot(b, a):
    """Open URL, wait, screenshot (for looking at a page by hand)."""
    b.navigate(a.url)
    b.pump(a.wait)
    b.screenshot(a.name)
    for line in b.console:
        log("console: %s" % line)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("watch", "failed", "shot"):
        s = sub.add_parser(name)
        s.add_argument("--url", required=True)
        s.add_argument("--out", required=True)
        s.add_argument("--timeout", type=int, default=900)
        if name in ("watch", "failed"):
            s.add_argument("--mac", required=True)
        if name == "watch":
            s.add_argument("--min-phases", type=int, default=3)
            s.add_argument("--inventory", action="store_true", help="the machine page must show the inventory's disks")
        if name == "failed":
            s.add_argument("--phase")
            s.add_argument("--error")
        if name == "shot":
            s.add_argument("--name", default="page.png")
            s.add_argument("--wait", type=float, default=3)
    a = p.parse_args()
    base = a.url.split("/", 3)
    if len(base) < 3 or base[0] != "http:" or not base[2].startswith("127.0.0.1:"):
        print("browser.py: --url must be http://127.0.0.1:PORT/...", file=sys.stderr)
        return 2
    origin = "http://%s/" % base[2]
    os.makedirs(a.out, exist_ok=True)
    # Our own deadline, whatever chromium does.
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(BrowserError("timed out")))
    # SIGTERM (the test's cleanup, timeout(1)), SIGINT, SIGHUP: close chromium.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    signal.alarm(a.timeout + 120)
    b = None
    try:
        b = Browser(a.out)
        rc = {"watch": cmd_watch, "failed": cmd_failed, "shot": cmd_shot}[a.cmd](b, a)
        foreign = b.foreign_requests(origin)
        log("%d page requests, all to %s" % (len(b.requests), origin) if not foreign else
            "FAIL: requests to other places: %s" % ", ".join(foreign[:10]))
        if foreign:
            rc = 1
        errors = [c for c in b.console if "exception" in c or "Refused" in c or "Content Security Policy" in c]
        for c in errors:
            log("FAIL: console: %s" % c)
        if errors:
            rc = 1
        return rc
    except BrowserError as e:
        log("FAIL: %s" % e)
        return 1
    finally:
        if b:
            b.close()


if __name__ == "__main__":
    sys.exit(main())

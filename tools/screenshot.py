"""Screenshot an Odoo page as a logged-in user with headless Chromium (DevTools protocol).

    python tools/screenshot.py http://127.0.0.1:8070 amazon_db admin admin '/web#model=...' out.png
"""
import base64
import json
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket


def session_id(base, db, login, password):
    req = urllib.request.Request(base + "/web/session/authenticate", data=json.dumps({
        "jsonrpc": "2.0", "params": {"db": db, "login": login, "password": password}}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        cookie = res.headers.get("Set-Cookie", "")
    return cookie.split("session_id=")[1].split(";")[0]


def main(base, db, login, password, path, out, width=1400, height=900):
    sid = session_id(base, db, login, password)
    profile = tempfile.mkdtemp(prefix="amazon_fbm_chrome.")
    chrome = subprocess.Popen(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                               "--remote-debugging-port=9333", "--remote-allow-origins=*", "--user-data-dir=" + profile,
                               "--window-size=%d,%d" % (width, height), "about:blank"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                with urllib.request.urlopen("http://127.0.0.1:9333/json") as res:
                    target = next(t for t in json.load(res) if t["type"] == "page")
                break
            except Exception:  # noqa: BLE001 - Chromium still starting
                time.sleep(0.2)
        ws = websocket.create_connection(target["webSocketDebuggerUrl"])
        seq = iter(range(1, 10000))

        def call(method, **params):
            msg_id = next(seq)
            ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
            while True:
                msg = json.loads(ws.recv())
                if msg.get("id") == msg_id:
                    return msg.get("result", {})

        call("Network.enable")
        host = base.split("//")[1].split(":")[0]
        call("Network.setCookie", name="session_id", value=sid, domain=host, path="/")
        call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
             mobile=False)
        call("Page.navigate", url=base + path)
        time.sleep(6)
        shot = call("Page.captureScreenshot", format="png")
        with open(out, "wb") as fh:
            fh.write(base64.b64decode(shot["data"]))
        ws.close()
    finally:
        chrome.terminate()
        chrome.wait(10)


if __name__ == "__main__":
    main(*sys.argv[1:7])

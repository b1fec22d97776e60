"""A plain HTTP client with one cookie jar, for the web's tests (no redirects followed)."""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlencode, urlsplit


class Client:
    """Keeps the session cookie like a browser; returns (status, headers, body)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}
        self.raw = b""

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        headers = {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["content-type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body, headers)
        resp = conn.getresponse()
        self.raw = resp.read()  # the last body as sent (a PDF is not text)
        text = self.raw.decode(errors="replace")
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, str], str]:
        return self.request("POST", path, form)

    def csrf(self, path: str = "/masuk") -> str:
        """The CSRF token of a form on this page."""
        _status, _h, body = self.get(path)
        found = re.search(r'name="csrf" value="([^"]+)"', body)
        assert found, body[:500]
        return found.group(1)

    def login(self, name: str, password: str) -> int:
        status, _h, _b = self.post(
            "/masuk", {"csrf": self.csrf(), "name": name, "password": password}
        )
        return status

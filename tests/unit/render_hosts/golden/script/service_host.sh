# step 1: "jupyter: Jupyter server" (Service)
s1_probe() {
sh -c 'echo "$1  $2" | sha256sum -c --status' probe d92e9cd0690c8124c01c5d7440a78b74fed5f69588ad3b1311ac7a94722b7604 /etc/systemd/system/toolkit-jupyter.service && sh -c 'f="$1"; v="$2"; [ -f "$f" ] && [ ! -L "$f" ] && [ "$(stat -c %u:%g:%a -- "$f")" = 0:0:600 ] && grep -q -- "^$v=." "$f"' toolkit-secret /etc/toolkit/jupyter.env JUPYTER_TOKEN && { ! systemd_running || { systemctl is-enabled --quiet -- toolkit-jupyter.service && systemctl is-active --quiet -- toolkit-jupyter.service; }; }
}
s1_apply() {
sh -c 'f="$1"; v="$2"; d="$(dirname -- "$f")"
if [ -L "$f" ] || { [ -e "$f" ] && [ ! -f "$f" ]; }; then
  echo "$f is not a regular file; move it away, then apply again" >&2; exit 1
fi
mkdir -p -- "$d"
umask 077
if [ -f "$f" ] && [ "$(stat -c %u:%g:%a -- "$f")" != 0:0:600 ]; then
  chmod 0600 -- "$f" && chown 0:0 -- "$f"
  echo "made $f readable by root only (0600); if others could read it before, remove it and apply again"
fi
grep -q -- "^$v=." "$f" 2>/dev/null && exit 0
t="$(mktemp -- "$d/.toolkit.XXXXXX")"
{
  if [ -s "$f" ]; then cat -- "$f"; [ -z "$(tail -c 1 -- "$f")" ] || echo; fi
  printf '"'"'%s='"'"' "$v"; head -c 24 /dev/urandom | od -An -tx1 | tr -d '"'"' \n'"'"'; echo
} >"$t"
chown 0:0 -- "$t"
mv -f -- "$t" "$f"
echo "generated $v in $f (readable by root only)"
' toolkit-secret /etc/toolkit/jupyter.env JUPYTER_TOKEN
write_file /etc/systemd/system/toolkit-jupyter.service 0644 root <<'TOOLKIT_BASE64'
IyBnZW5lcmF0ZWQgYnkgdG9vbGtpdCAwLjEuMCBmcm9tIHByb2ZpbGUgZ29sZGVuICgwMDAwMDAw
MDAwMDApOyBkbyBub3QgZWRpdCAtIHJlLXJlbmRlciBpbnN0ZWFkCltVbml0XQpEZXNjcmlwdGlv
bj10b29sa2l0IGdvbGRlbjogSnVweXRlciBzZXJ2ZXIKQWZ0ZXI9bmV0d29yay1vbmxpbmUudGFy
Z2V0CldhbnRzPW5ldHdvcmstb25saW5lLnRhcmdldAoKW1NlcnZpY2VdClR5cGU9c2ltcGxlClVz
ZXI9ZGV2CldvcmtpbmdEaXJlY3Rvcnk9fgpFbnZpcm9ubWVudD0iVklSVFVBTF9FTlY9L29wdC92
ZW52IgpFbnZpcm9ubWVudEZpbGU9L2V0Yy90b29sa2l0L2p1cHl0ZXIuZW52CkV4ZWNTdGFydD0i
L29wdC92ZW52L2Jpbi9qdXB5dGVyIiAibGFiIiAiLS1pcD0wLjAuMC4wIiAiLS1wb3J0PTg4ODgi
ClJlc3RhcnQ9b24tZmFpbHVyZQpOb05ld1ByaXZpbGVnZXM9eWVzClByaXZhdGVUbXA9eWVzClBy
b3RlY3RTeXN0ZW09ZnVsbApQcm90ZWN0S2VybmVsVHVuYWJsZXM9eWVzClByb3RlY3RLZXJuZWxN
b2R1bGVzPXllcwpQcm90ZWN0Q29udHJvbEdyb3Vwcz15ZXMKUmVzdHJpY3RTVUlEU0dJRD15ZXMK
TG9ja1BlcnNvbmFsaXR5PXllcwoKW0luc3RhbGxdCldhbnRlZEJ5PW11bHRpLXVzZXIudGFyZ2V0
Cg==
TOOLKIT_BASE64
if systemd_running; then
  systemctl daemon-reload
  systemctl enable -- toolkit-jupyter.service
  systemctl restart -- toolkit-jupyter.service
else
  echo '  skipped enabling toolkit-jupyter.service: PID 1 is not systemd (a container?); start it by hand'
fi
}
run_step 1 '{"step": 1, "kind": "Service", "component": "jupyter", "title": "Jupyter server"}' 'jupyter: Jupyter server'

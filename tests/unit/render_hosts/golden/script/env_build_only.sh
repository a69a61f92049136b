# step 1: "network: proxy settings" (Environment)
http_proxy="$(proxy_url http://proxy:3128)"; export http_proxy
export no_proxy=localhost,.corp
note_step 1 '{"step": 1, "kind": "Environment", "component": "network", "title": "proxy settings"}' 'network: proxy settings' 'exported for this run only, nothing left on the host'

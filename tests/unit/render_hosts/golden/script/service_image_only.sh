# step 1: "jupyter: Jupyter server" (Service)
note_step 1 '{"step": 1, "kind": "Service", "component": "jupyter", "title": "Jupyter server"}' 'jupyter: Jupyter server' 'runs in images only; the profile does not ask for a service on hosts'

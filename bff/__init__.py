"""The backend-for-frontend: holds Osigu credentials, proxies the API and serves the widgets."""

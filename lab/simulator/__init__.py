"""The simulated Arista EOS devices (eAPI) the lab runs as a service and the tests use: see README.md."""

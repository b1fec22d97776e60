"""The office broker's security: access rules, device credentials, TLS and the bridge.

`antrean broker init` writes everything the hub's Mosquitto needs into one
folder (default /etc/antrean/broker); `files.BrokerFiles` names each file.
Nothing here imports paho: these modules write Mosquitto's own files.
"""

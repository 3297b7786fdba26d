"""A minimal IMDSv2 for the VM test: a session token is required for every read,
and only the paths nodeadm and the bootstrap scripts read are served."""

import argparse
import json
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--address", default="169.254.169.254")
parser.add_argument("--port", type=int, default=80)
parser.add_argument("--user-data", help="file served as user data; absent means 404")
parser.add_argument("--local-ipv4", required=True)
args = parser.parse_args()

TOKEN = secrets.token_hex(16)
MAC = "02:00:00:00:00:01"
IDENTITY = {
    "accountId": "111122223333",
    "architecture": "x86_64",
    "availabilityZone": "eu-west-1a",
    "imageId": "ami-0123456789abcdef0",
    "instanceId": "i-0123456789abcdef0",
    "instanceType": "m5.large",
    "privateIp": args.local_ipv4,
    "region": "eu-west-1",
}
META = "/latest/meta-data/"
PATHS = {
    "/latest/dynamic/instance-identity/document": json.dumps(IDENTITY),
    META + "instance-id": IDENTITY["instanceId"],
    META + "instance-type": IDENTITY["instanceType"],
    META + "local-ipv4": args.local_ipv4,
    META + "mac": MAC,
    META + "placement/availability-zone": IDENTITY["availabilityZone"],
    META + "placement/region": IDENTITY["region"],
    META + "services/domain": "amazonaws.com",
    META + "network/interfaces/macs/": MAC + "/",
    META + f"network/interfaces/macs/{MAC}/local-ipv4s": args.local_ipv4,
    META + f"network/interfaces/macs/{MAC}/network-card": "0",
}
if args.user_data:
    with open(args.user_data) as f:
        PATHS["/latest/user-data"] = f.read()


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body=""):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self.reply(200, TOKEN)
        else:
            self.reply(400)

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            self.reply(401)
        elif self.path in PATHS:
            self.reply(200, PATHS[self.path])
        else:
            self.reply(404)


ThreadingHTTPServer((args.address, args.port), Handler).serve_forever()

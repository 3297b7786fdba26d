"""A minimal IMDSv2 for the VM test: a session token is required for every read,
and only the paths nodeadm and the bootstrap scripts read are served. With
--ec2-port it also serves EC2's DescribeInstances (query API) on 127.0.0.1, so
nodeadm names the node by its private DNS name, the production path, with the
instance role credentials IMDS hands out."""

import argparse
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--address", default="169.254.169.254")
parser.add_argument("--port", type=int, default=80)
parser.add_argument("--user-data", help="file served as user data; absent means 404")
parser.add_argument("--local-ipv4", required=True)
parser.add_argument("--ec2-port", type=int, help="serve EC2 DescribeInstances on 127.0.0.1:PORT")
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
ROLE = "nixplane-test-node"
PRIVATE_DNS_NAME = "ip-10-0-0-1.eu-west-1.compute.internal"
PATHS[META + "iam/security-credentials/"] = ROLE
PATHS[META + "iam/security-credentials/" + ROLE] = json.dumps(
    {
        "Code": "Success",
        "Type": "AWS-HMAC",
        "AccessKeyId": "ASIATESTTESTTESTTEST",
        "SecretAccessKey": "test-secret",
        "Token": "test-session-token",
        "LastUpdated": "2026-01-01T00:00:00Z",
        "Expiration": "2099-01-01T00:00:00Z",
    }
)
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


class Ec2Handler(BaseHTTPRequestHandler):
    """EC2's query API answers POSTed forms with XML; only DescribeInstances is known."""

    def do_POST(self):
        form = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        if "Action=DescribeInstances" not in form:
            body, status = "<Response><Errors><Error><Code>InvalidAction</Code></Error></Errors></Response>", 400
        else:
            status = 200
            body = (
                '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
                "<requestId>nixplane-test</requestId><reservationSet><item><reservationId>r-0123456789abcdef0</reservationId>"
                f"<instancesSet><item><instanceId>{IDENTITY['instanceId']}</instanceId>"
                f"<privateDnsName>{PRIVATE_DNS_NAME}</privateDnsName><privateIpAddress>{args.local_ipv4}</privateIpAddress>"
                "</item></instancesSet></item></reservationSet></DescribeInstancesResponse>"
            )
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if args.ec2_port:
    threading.Thread(
        target=ThreadingHTTPServer(("127.0.0.1", args.ec2_port), Ec2Handler).serve_forever, daemon=True
    ).start()
ThreadingHTTPServer((args.address, args.port), Handler).serve_forever()

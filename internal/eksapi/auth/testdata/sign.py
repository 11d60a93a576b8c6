"""Signs requests with botocore, for the tests of kdp's SigV4 verifier.

Reads a JSON object on stdin and writes one on stdout.

{"sign": [spec, ...]}: signs each spec, a request (method, url, headers,
body) with its credentials (accessKeyId, secretAccessKey), region, service
and date (YYYYMMDDTHHMMSSZ, the signing time), presigned for `expires`
seconds if given, with botocore.auth's SigV4Auth or SigV4QueryAuth, and
returns the signed requests.

{"client": {...}}: calls the EKS API at endpoint with a real botocore
client, and returns each call's error code ("" on success).
"""
import datetime
import json
import sys
from unittest import mock

import botocore.auth
import botocore.session
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


def sign(spec):
    creds = Credentials(spec["accessKeyId"], spec["secretAccessKey"])
    when = datetime.datetime.strptime(spec["date"], "%Y%m%dT%H%M%SZ")
    body = spec.get("body", "").encode() or None
    req = AWSRequest(method=spec["method"], url=spec["url"], data=body, headers=spec.get("headers") or {})
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        if spec.get("expires"):
            SigV4QueryAuth(creds, spec["service"], spec["region"], expires=spec["expires"]).add_auth(req)
        else:
            SigV4Auth(creds, spec["service"], spec["region"]).add_auth(req)
    return {"method": req.method, "url": req.url, "headers": dict(req.headers.items()), "body": spec.get("body", "")}


def client(c):
    session = botocore.session.get_session()
    eks = session.create_client(
        "eks", region_name=c["region"], endpoint_url=c["endpoint"],
        aws_access_key_id=c["accessKeyId"], aws_secret_access_key=c["secretAccessKey"])
    arn = c["arn"]
    calls = [
        ("ListNodegroups", lambda: eks.list_nodegroups(clusterName="kdp", maxResults=5, nextToken="abc/def==")),
        ("CreateNodegroup", lambda: eks.create_nodegroup(
            clusterName="kdp", nodegroupName="ng", subnets=["subnet-1"],
            nodeRole="arn:aws:iam::111122223333:role/node", labels={"team": "web"})),
        ("DescribeNodegroup", lambda: eks.describe_nodegroup(clusterName="kdp", nodegroupName="ng")),
        ("TagResource", lambda: eks.tag_resource(resourceArn=arn, tags={"team": "web"})),
        ("UntagResource", lambda: eks.untag_resource(resourceArn=arn, tagKeys=["a", "b"])),
        ("DeleteNodegroup", lambda: eks.delete_nodegroup(clusterName="kdp", nodegroupName="ng")),
    ]
    out = {}
    for name, call in calls:
        try:
            call()
            out[name] = ""
        except ClientError as e:
            out[name] = e.response["Error"]["Code"]
    return out


def main():
    req = json.load(sys.stdin)
    if "sign" in req:
        json.dump({"signed": [sign(s) for s in req["sign"]]}, sys.stdout)
    else:
        json.dump({"results": client(req["client"])}, sys.stdout)


main()

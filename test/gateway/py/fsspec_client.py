"""fsspec's HTTPFileSystem against the gateway, as docs/gateway.md shows it: ls, info, open + seek + read.

usage: fsspec_client.py BASE_URL CERT_DIR SHARD_PATH OFFSET:LENGTH...
prints JSON: {"ls": [...], "info": {...}, "reads": ["sha256 hex", ...], "whole": "sha256 hex"}
"""
import hashlib, json, ssl, sys

import aiohttp
import fsspec

base, certs, shard = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=f"{certs}/ca.pem")
ctx.load_cert_chain(f"{certs}/cert.pem", f"{certs}/key.pem")


async def get_client(**kwargs):
    # the connector must be made on fsspec's own event loop (aiohttp refuses a connector from another
    # loop, which is what client_kwargs={"connector": TCPConnector(...)} built at import time gives)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx), **kwargs)


fs = fsspec.filesystem("https", get_client=get_client)

out = {"ls": sorted(fs.ls(base + "/train/", detail=False)), "info": fs.info(base + shard)}
out["info"] = {"size": out["info"]["size"], "type": out["info"]["type"]}
reads = []
with fs.open(base + shard, block_size=1 << 16) as f:
    for spec in sys.argv[4:]:
        off, n = (int(x) for x in spec.split(":"))
        f.seek(off)
        reads.append(hashlib.sha256(f.read(n)).hexdigest())
out["reads"] = reads
out["whole"] = hashlib.sha256(fs.cat_file(base + shard)).hexdigest()
print(json.dumps(out))

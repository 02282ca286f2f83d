"""A PyTorch Dataset of fixed-size records read by byte range from sealed shards through the
gateway, loaded by a DataLoader with 2 worker processes. Each record carries its own index and a
checksum, so the script checks every record it gets.

usage: torch_loader.py BASE_URL CERT_DIR RECORD_SIZE SHARD_PATH:RECORDS...
prints JSON: {"records": N, "bad": [...], "workers": [pids]}
"""
import hashlib, json, os, ssl, struct, sys, urllib.request

import torch
from torch.utils.data import DataLoader, Dataset

base, certs, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
shards = [(p, int(n)) for p, n in (s.rsplit(":", 1) for s in sys.argv[4:])]


class SealedRecords(Dataset):
    def __init__(self):
        self.index = [(p, i) for p, n in shards for i in range(n)]
        self.ctx = None

    def __len__(self):
        return len(self.index)

    def __getitem__(self, k):
        if self.ctx is None:  # one TLS context per worker process
            self.ctx = ssl.create_default_context(cafile=f"{certs}/ca.pem")
            self.ctx.load_cert_chain(f"{certs}/cert.pem", f"{certs}/key.pem")
        path, i = self.index[k]
        req = urllib.request.Request(base + path, headers={"Range": f"bytes={i * size}-{(i + 1) * size - 1}"})
        with urllib.request.urlopen(req, context=self.ctx) as r:
            assert r.status == 206, r.status
            body = r.read()
        return torch.frombuffer(bytearray(body), dtype=torch.uint8), k, os.getpid()


ds = SealedRecords()
bad, seen, pids = [], 0, set()
for batch, ks, ps in DataLoader(ds, batch_size=8, num_workers=2, shuffle=True):
    for rec, k, pid in zip(batch, ks.tolist(), ps.tolist()):
        pids.add(pid)
        seen += 1
        raw = bytes(rec.numpy())
        path, i = ds.index[k]
        # record layout (made by the test): u32 shard no, u32 record no, then bytes, last 32 = sha256 of the rest
        shard_no, rec_no = struct.unpack(">II", raw[:8])
        if rec_no != i or shards[shard_no][0] != path or hashlib.sha256(raw[:-32]).digest() != raw[-32:]:
            bad.append(k)
print(json.dumps({"records": seen, "bad": bad, "workers": sorted(pids)}))

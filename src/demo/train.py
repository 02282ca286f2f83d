"""The demo's training job: a logistic-regression churn model in PyTorch.

It reads the sealed feature shards through the pipeseal gateway (fsspec's HTTP filesystem over
mutual TLS: the gateway decrypts only the bytes asked for, in memory, and audits the read as this
job's identity), trains for a few epochs, and writes each epoch's checkpoint and the final model
into OUT (a RAM-backed 0700 folder the demo seals and removes). Its tracking token comes from
`pipeseal run` (environment, masked in this output); its log lines are JSON on stdout, which the
demo redacts into the sealed log sink.

usage: train.py GATEWAY_URL CERT_DIR OUT EPOCHS SHARD_PATH...
"""
import json, os, ssl, struct, sys

import aiohttp
import fsspec
import torch

base, certs, out, epochs, shards = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
torch.set_num_threads(1)
torch.manual_seed(21)
FLOATS = 4  # visits, spend, tickets (scaled), label


def log(cls, event, **fields):
    print(json.dumps({"class": cls, "event": event, **fields}), flush=True)


token = os.environ.get("TRACKING_TOKEN")
if not token:
    sys.exit("train.py: TRACKING_TOKEN is not set (run me through `pipeseal run --secret`)")
log("metadata", "tracking", msg=f"run registered with the tracking service, token {token}")

ctx = ssl.create_default_context(cafile=f"{certs}/ca.pem")
ctx.load_cert_chain(f"{certs}/cert.pem", f"{certs}/key.pem")


async def get_client(**kwargs):
    # the connector must be made on fsspec's own event loop (see test/gateway/py/fsspec_client.py)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx), **kwargs)


fs = fsspec.filesystem("https", get_client=get_client)
listed = sorted(fs.ls(base + "/train/", detail=False))
rows = []
for s in shards:
    raw = fs.cat_file(base + s)
    n = len(raw) // (4 * FLOATS)
    rows.extend(struct.unpack_from(f"<{FLOATS}f", raw, i * 4 * FLOATS) for i in range(n))
log("metadata", "data", shards=len(shards), listed=len(listed), records=len(rows))

data = torch.tensor(rows, dtype=torch.float32)
x, y = data[:, : FLOATS - 1], data[:, FLOATS - 1 :]
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32, shuffle=True)
model = torch.nn.Linear(FLOATS - 1, 1)
opt = torch.optim.Adam(model.parameters(), lr=0.2)
loss_fn = torch.nn.BCEWithLogitsLoss()

for epoch in range(1, epochs + 1):
    for _ in range(5):  # a few passes per epoch: the data set is tiny
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    with torch.no_grad():
        logits = model(x)
        full = loss_fn(logits, y).item()
        acc = ((logits > 0).float() == y).float().mean().item()
    ck = os.path.join(out, f"epoch-{epoch}")
    os.makedirs(ck, mode=0o700)
    torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": opt.state_dict()}, os.path.join(ck, "model.pt"))
    with open(os.path.join(ck, "metrics.json"), "w") as f:
        json.dump({"epoch": epoch, "loss": full, "accuracy": acc}, f)
    log("metadata", "epoch", epoch=epoch, loss=round(full, 4), accuracy=round(acc, 4), checkpoint=f"epoch-{epoch}")

# a debug line of the kind that leaks: redaction takes the e-mail out before the sink
log("payload", "debug", msg="worst prediction was for a customer who wrote from help.desk@example.com")

final = os.path.join(out, "model")
os.makedirs(final, mode=0o700)
w = model.weight.detach()[0].tolist()
b = model.bias.detach()[0].item()
with open(os.path.join(final, "weights.json"), "w") as f:
    json.dump({"kind": "logistic-regression", "inputs": ["visits/30", "spend/500", "tickets/5"], "weights": w, "bias": b}, f)
with open(os.path.join(final, "config.json"), "w") as f:
    json.dump({"framework": f"torch {torch.__version__}", "epochs": epochs, "accuracy": acc}, f)
log("metadata", "done", accuracy=round(acc, 4))

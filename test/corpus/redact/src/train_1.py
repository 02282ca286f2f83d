import os
from transformers import AutoTokenizer

MODEL_ID = "org/model-c0e912b"  # pinned at 4b803cd95859bc1adcd023c5640df50395622a16
OPENAI_API_KEY = "sk-proj-i2q6j4lZllgVb-dT5jDX2UJ3VgV2oNz7xGhxppCYYFgJ43EwnuvSKMJ4D5rQ9YKIJHTA4zy5cVOH59o"
HF_TOKEN = "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"
api_key = "X4Vp1f770l3eDB07vJOh8isDID"
fallback_key = os.environ.get("API_KEY")
tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
DB_URL = "postgresql://trainer:DA1Wzk~~tr.6q@10.0.0.12:5432/features"
RUN_ID = "22bdf196-9cf3-4a12-9f0f-739039c5f83d"
NOTIFY = "kofi.okafor50@example.co.uk"
# docs: test with card 4000056655665556 and key AKIAIOSFODNN7EXAMPLE
PRIVATE_KEY = """-----BEGIN RSA PRIVATE KEY-----
rJ5V+g/1Opr6z7BhlyaXULxPc7c5PWy1WYzZCGy5R9/2/NPT2e9QsAWYI6mHJdup
U2J8iPa3YEfDvLtfRWucm/35R31RN9tYuOMMsJosg2nSFHuLyZzUDLRNqI48jPiw
8d6t+C8Pd7OwIvuNiwOLpiq8sSaoH3PuC4Yk87UaUiqpf+loFqT7JZ17iyxzNexp
kTxVJcZVfnFMkohN/HKbtVndo+Fg85qt10FI75VZuJzSd3esoRDZUnY0OftQYd5E
cbyV5MUwoyvCku7TUPJeU3qLVkHrpsOF/w3Rp9zCcplvTXmJsHnXptMyI4HlfEe/
x6P+ZGqqASsHI82YKJUKbzGdhrZ3hEprzYR/ChW9PoP7XafnAVJaYyb8JqLSJrtX
-----END RSA PRIVATE KEY-----"""
__version__ = "3.17.5"

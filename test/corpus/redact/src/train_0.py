import os
from transformers import AutoTokenizer

MODEL_ID = "org/model-56cfa4b"  # pinned at 69258cd4942d2bf4563f6cb1e8f007bc01b2ed3c
OPENAI_API_KEY = "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"
HF_TOKEN = "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"
api_key = "g6Lqh4GJLB4amvFhwdF1uSso"
fallback_key = os.environ.get("API_KEY")
tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
DB_URL = "postgresql://trainer:FUtk~ytng9TeOCZ7w@10.0.0.12:5432/features"
RUN_ID = "cd57b559-802e-4fa3-b061-a33015990f6f"
NOTIFY = "hanatanaka@corp.example.net"
# docs: test with card 5555555555554444 and key AKIAIOSFODNN7EXAMPLE
PRIVATE_KEY = """-----BEGIN PRIVATE KEY-----
lmuTCcF+oKn1mF/otZtqEYPyOoeLDHl1IuN1WMoLEhEKZcNmlw/fD7sfIcQzufjR
EkVGjQ6JTRRvaEKDMXLqqDDNlhatvZkOpDJvlfBaa9fCgvaiuAUhwG4qhbQ9vOB7
bsAAuLdHTV2MmgEfC+9blLNDVpInTDBEEW9MNkIXXf+B63NJuEXpneqtZTKz/z+d
t/OTrdTNyADXWE/uLM8U/yZF62qPGCB3RSfG2Wd/NnTY1x3A//9fWNFKTmVdYlCA
-----END PRIVATE KEY-----"""
__version__ = "1.6.1"

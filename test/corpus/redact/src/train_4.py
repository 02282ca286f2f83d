import os
from transformers import AutoTokenizer

MODEL_ID = "org/model-1564b16"  # pinned at f45854b8ccbe1371080d3a860e0959df8a2a3e0f
OPENAI_API_KEY = "sk-proj-CgEK52ZW1fSGwy8A2CkmalbT9KVw4xd-1tmiNC9KnSOCVm6EqwsuyiAeu3_tBhb1MsodlsJZS7Lw7rO0TLY9cCrKcsEAv"
HF_TOKEN = "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"
api_key = "mTkm1hYh9KTSVDWJ0QIB2h74Yo"
fallback_key = os.environ.get("API_KEY")
tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
DB_URL = "postgresql://trainer:0otCXOgCJZZ7@10.0.0.12:5432/features"
RUN_ID = "6bc163c2-d987-4a97-98b1-1d256698a353"
NOTIFY = "gustavo.silva@uni.example.edu"
# docs: test with card 378282246310005 and key AKIAIOSFODNN7EXAMPLE
PRIVATE_KEY = """-----BEGIN PRIVATE KEY-----
L1I5q35tUz7PxYDBKYGFqWRzUqYuteOxhZX7MP/Vl2vkm+7jvAfroGNwp1pAJ+tH
Vz2C23QzvIA3Or9zVOg5ujhEEDjbceuCAX6+u0FHW9iUV5CSndweX6xIgIaT1Ibx
1YsLW5JH6SmFPmtso3QhcfwP3kHJEPslSZQSkF3QF+G7j9SY7cIFfpxvmcB9kzfd
bsLwbUCwD1hbhRuTGacDHwR3MQEFMvKZ02H1uNk9XqaRWnO3XQOk1b8ml6EySwLy
bSnBE0I7QT/jP3ka4K/ig+HT+JLk+x1NsFa+dub6wayHigvBzeGrig3QqAWu9ZRR
XqE3//og/P9ANkZGKl4/ZKdPD6L/Qmsjc/cCAFuMrFYeVmQDu5lAkmSF3cSYQcvO
-----END PRIVATE KEY-----"""
__version__ = "3.10.7"

import os
from transformers import AutoTokenizer

MODEL_ID = "org/model-45458e1"  # pinned at 0fd8461cec4dc599e83cf28799c26402a197cbb5
OPENAI_API_KEY = "sk-proj-RpQZDKYPD3E2ifR2_9ksitdiyjvHXMeXMcFAUu8xai0ZUbzEdn4XZl4vUxc_qksfjED8Ab4R1mT2tZEzyVPG-Kl5T8RH912kRfMMsr-rinPulB"
HF_TOKEN = "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"
api_key = "JnYGyKPmIXeLWfKD9FTv4pEi83LFyp"
fallback_key = os.environ.get("API_KEY")
tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
DB_URL = "postgresql://trainer:.1bJdUumqRU_a@10.0.0.12:5432/features"
RUN_ID = "54f620b9-a24d-40e7-b211-441faabdc6c9"
NOTIFY = "nia_kowalski10@uni.example.edu"
# docs: test with card 5555555555554444 and key AKIAIOSFODNN7EXAMPLE
PRIVATE_KEY = """-----BEGIN EC PRIVATE KEY-----
UFbu36SgjKz0zxbHGWmX3wyxOTM1mNHJYY3ecqasKhhMfBF8bDKTz8QQv76l2/dZ
mb4g6gcV3v+OgCYH2QR9uydAdwKs046r8Mfan3BNSpE32ThcqyJUD8O+QYj+Yo7K
3MxVFs/8pqsaLiVXHl/37g7sNwPcEMyzAUhULPbzPTWGUJv2j8poDUE+B2MsA9BP
LWb6Otf6153BIDwQLhgwRDE0Pi0U1kZiv0EiP6u2Rzq5fUdMDOIVynWy0E+6Kzj2
rcQlkPvgrwBuBx8v4fC69Yk5eplT231+QFV4yTtF4DNGFhGIAoDtROb9fMb3y1oY
-----END EC PRIVATE KEY-----"""
__version__ = "0.8.3"

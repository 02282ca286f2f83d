import os
from transformers import AutoTokenizer

MODEL_ID = "org/model-69c9d95"  # pinned at c98767acf4a1da2a3f83d2424107d7cccb12b064
OPENAI_API_KEY = "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"
HF_TOKEN = "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"
api_key = "crFO7WpHXcWSFG0cCa9HsWIyc3c"
fallback_key = os.environ.get("API_KEY")
tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
DB_URL = "postgresql://trainer:0v!TDdX9zG@10.0.0.12:5432/features"
RUN_ID = "bffd24ca-32a9-4073-ba76-895f3bf23261"
NOTIFY = "bob_garcia@example.org"
# docs: test with card 378282246310005 and key AKIAIOSFODNN7EXAMPLE
PRIVATE_KEY = """-----BEGIN EC PRIVATE KEY-----
/5z58u+P/9bmsZ930isnwpqQw3ZFcMm2Ia+piOk2RmdzH59dtcJC96c9TFh93fxm
tAX4EhgTGO7q0MYBquEwKL7fxDdWnKl2/xejVVOfAQVixIeXO4g1V4yFbUTP30US
PN4rTeW01o77W38aSehM4GVgdeXEzDyjrCuv4PAc37QLii/9hZMOAzizCR7xI6s0
V3mz7Q5STjWVf77sSgKRtzy3F1KEre1nq/SowlI2IrOQXu3RTF8TDyn44Y0a7xUK
S1b9as1x//ISAgT3xFjJ9Y+Bice0bMsiGNRonoaIrFMCmbGcLWVOnHN64NsjqVzQ
g3JQ3bG0BXUDWrK66ZGkE1xcG3KOKVXs4Xph5AhEWaSWjvTxwcPaXLUv/8tDMEZz
-----END EC PRIVATE KEY-----"""
__version__ = "0.1.3"

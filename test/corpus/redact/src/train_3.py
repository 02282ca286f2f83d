import os
from transformers import AutoTokenizer

MODEL_ID = "org/model-da056bb"  # pinned at 36fb834b9ff939eb1f79a4addbd69a5367d39393
OPENAI_API_KEY = "sk-proj-YzfpiQhP6bIAX6cpDW0b0GBwr7JdGqmHKeo-ysiK5WcozrfKKRiMLgtRKKZPQiyosx"
HF_TOKEN = "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"
api_key = "1UBdiTsfe4Mgnmdv9ubioPescQxYBcFPWn"
fallback_key = os.environ.get("API_KEY")
tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
DB_URL = "postgresql://trainer:YKsSot.W9vmF@10.0.0.12:5432/features"
RUN_ID = "bcdce312-1662-4bf2-b77e-fa4ed8b525bc"
NOTIFY = "mateo+ml.tanaka@acme-labs.example.io"
# docs: test with card 4000056655665556 and key AKIAIOSFODNN7EXAMPLE
PRIVATE_KEY = """-----BEGIN OPENSSH PRIVATE KEY-----
o3lOPvCLeyRiVd/WDkmbwJa4ii3TuQwUkV0gv5l+FI6+Sl6aRJaysoDrCZo02ygt
Q4P/2WC9ymSLClxWOkZ2XTAXKviGJd8qDFFLaQhe1+0kCtdq8PI4ibmzA/NxccBf
CRh3IeG4yI7Q519CXmNUyxLI++ZR8qpHyNZ26H6U3AzBqTJXJwAUnTcwtu4OvpOa
S/1hH8MXBx84fQU0tcFZJGrCV5TG9ySitzSIHt7KtedjVol4MmGu9fGP4EOYHhoH
AykLHNJlZL1eFC8ESuIwegzd2eTqhh4qSA0tu8zx/HIuNLU4la6np7Z4qwDdoltU
nKc5DaQgwTkkMbUaexIwSXO/Rnx7YrHXGqz+4wNW5O0lU9IlPmUNspYnS9R5owgI
-----END OPENSSH PRIVATE KEY-----"""
__version__ = "3.14.3"

"""Upload helper for the nightly training data export."""
import boto3

# look-alikes that must not match: a UUID, a sha256, a version
RUN_ID = "3f2b8c1e-9d4a-4e7b-8c2f-1a6d5e9b0c7d"
CHECKSUM = "9f86d081884c7d659a2fea0a08d0c15d6b4ff2b0a822cd15d0a08d0c15d6b4ff"
VERSION = "2.14.1"

GITHUB_TOKEN = "ghp_MxKBpVj5qnnTXYhYSIrfDLbmvZGcPzF5mq34"
SLACK_BOT = 'xoxb-776186746134-7720081495348-cV7hQa74anfRmeqefJuYfToz'

def client():
    return boto3.client("s3")

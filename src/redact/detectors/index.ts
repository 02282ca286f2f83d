/** The built-in detectors, one family per file. */
import { TRIGGER, withTrigger } from "../prefilter.js";
import type { Detector } from "../types.js";
import { awsAccessKeyIdDetector, awsSecretKeyDetector } from "./aws.js";
import { cardDetector } from "./card.js";
import { connectionStringPasswordDetector } from "./connection-string.js";
import { dobDetector } from "./dob.js";
import { emailDetector } from "./email.js";
import { genericSecretDetector } from "./generic-secret.js";
import { ibanDetector } from "./iban.js";
import { ipDetector } from "./ip.js";
import { jwtDetector } from "./jwt.js";
import { phoneDetector } from "./phone.js";
import { privateKeyDetector } from "./private-key.js";
import {
  anthropicKeyDetector,
  googleApiKeyDetector,
  huggingFaceTokenDetector,
  openaiKeyDetector,
  slackTokenDetector,
  slackWebhookDetector,
  stripeKeyDetector,
} from "./saas.js";
import { ssnDetector } from "./ssn.js";
import { githubTokenDetector, gitlabTokenDetector } from "./vcs.js";

/** Ids of the built-in detectors, in the order they run. */
export const BUILTIN_DETECTOR_IDS = [
  "email",
  "phone",
  "credit-card",
  "iban",
  "us-ssn",
  "ip-address",
  "date-of-birth",
  "aws-access-key-id",
  "aws-secret-access-key",
  "github-token",
  "gitlab-token",
  "slack-token",
  "slack-webhook",
  "stripe-key",
  "google-api-key",
  "openai-key",
  "anthropic-key",
  "huggingface-token",
  "jwt",
  "private-key",
  "connection-string-password",
  "generic-secret",
] as const;

export type BuiltinDetectorId = (typeof BUILTIN_DETECTOR_IDS)[number];

const T = TRIGGER;

/** A fresh list of every built-in detector (detectors are stateless; the list is yours to filter). */
export function builtinDetectors(): Detector[] {
  return [
    withTrigger(emailDetector(), T.EMAIL),
    withTrigger(phoneDetector(), T.PHONE),
    withTrigger(cardDetector(), T.CARD),
    withTrigger(ibanDetector(), T.IBAN),
    withTrigger(ssnDetector(), T.SSN),
    withTrigger(ipDetector(), T.IP),
    withTrigger(dobDetector(), T.DOB),
    withTrigger(awsAccessKeyIdDetector(), T.AWS_ID),
    withTrigger(awsSecretKeyDetector(), T.AWS_SECRET),
    withTrigger(githubTokenDetector(), T.GITHUB),
    withTrigger(gitlabTokenDetector(), T.GITLAB),
    withTrigger(slackTokenDetector(), T.SLACK),
    withTrigger(slackWebhookDetector(), T.SLACK_HOOK),
    withTrigger(stripeKeyDetector(), T.STRIPE),
    withTrigger(googleApiKeyDetector(), T.GOOGLE),
    withTrigger(openaiKeyDetector(), T.OPENAI),
    withTrigger(anthropicKeyDetector(), T.ANTHROPIC),
    withTrigger(huggingFaceTokenDetector(), T.HUGGINGFACE),
    withTrigger(jwtDetector(), T.JWT),
    withTrigger(privateKeyDetector(), T.PRIVATE_KEY),
    withTrigger(connectionStringPasswordDetector(), T.CONNECTION),
    withTrigger(genericSecretDetector(), T.GENERIC),
  ];
}

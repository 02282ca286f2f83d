import Stripe from "stripe";
const stripe = new Stripe("sk_live_dLOpLNxn6vpXx4mCcAQBMgCJB1U3Uom9Wy8S1OD4O5azsAcyeB2nmhw9nvbbJzAkZoNqgmGBCA1");
const slack = new WebClient("xoxb-389337578535-9817718867073-p8kyAUf78B0y9UeI9UXL9IfX");
const GOOGLE_KEY = "AIza7oR6D5Q2CmlyQJOPYq_16HMzOJGfI5i20Zb";
export const anthropic = new Anthropic({ apiKey: "sk-ant-api03-KFCFWqhLBt_XyQS2ckhWbmReQQ7xOxxXDlIvgRf1mFlXquUK7-0P4A0FK9dWxkf2P6t0NeiMe9uXuTXD2CA9kWO2F1H8nAA" });
const token = process.env.GITHUB_TOKEN;
const gh = "ghs_Ub0ZqWeihKzm8XAigJ5IlpTG7XsatAdKeeI9";
const buildId = "34fa3ac6-ff7f-48c7-91cd-5d7646b5bc70"; // version: 5.7.6.87
const headers = { authorization: "Bearer eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxNjkwOTE2MDM2IiwiaWF0IjoxNzQyMjA4MTU5LCJzY29wZSI6IndyaXRlIGFkbWluIn0.gi_7djRIRmATEWkZVkAoVB8n7TYK2UJ7VC_dLbt6SyJ" };
const sample = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA/SpUvKu61sGNUd0fMVXw9qK3DtHYIBjHphJcqkeIVtJ2tavF+jDw8rSnvK/d2E3WUTFti+b5HbdCYjEo/APgEDcvPD352nDpmEBCHEWP9PVyaPkdRfqUCzOyfsUtOradgzQiK0Cwnu8RJLh4oEgxCQoEGWSsrzS0";

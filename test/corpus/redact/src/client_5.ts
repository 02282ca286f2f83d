import Stripe from "stripe";
const stripe = new Stripe("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");
const slack = new WebClient("xoxp-248551133020-3495568150059-WMDk78Dh8N0129SX6ymui3Zq");
const GOOGLE_KEY = "AIzabhJnnJZxApDpAQ7O_WWw0TzfWsTCYropHkQ";
export const anthropic = new Anthropic({ apiKey: "sk-ant-api03-dsyk3-zpSulPp3gITR-n_Oh5ohrsO5q-PmrZxA3CvQOz-NIQMcnJIWpGr3G7gO0uVC-X-NvDFOKayU1mJjrC51ssKzhh0AA" });
const token = process.env.GITHUB_TOKEN;
const gh = "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";
const buildId = "05ffd440-bac3-4693-bcbf-ae7df4c246fd"; // version: 6.10.4.68
const headers = { authorization: "Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIyNTc5MDc3Njc0IiwiaWF0IjoxNjA3MjU2NTg0LCJzY29wZSI6InJlYWQifQ.-yHhKwN8P2FNHVcn2oT9iMmKbV_9Lj0jrtCKDwvOAp_" };
const sample = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAEJNQM8Sl4wFJTW2h+LiPkukykqcXNTzmFIyd7+jWF1Px9aoV/7T0nBWuM2lzZV2wzzrXGjXs+A5VReysDR1RQx2B1SOyxV9HNWu101bUsM09ZEGRtiiatZYpIUjLLOCTGkxmnUMZr72Tm+8ZODo8lmBiGvFs+1oU";

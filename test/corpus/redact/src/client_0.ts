import Stripe from "stripe";
const stripe = new Stripe("sk_live_4chlZ9PcD9Zx9FKz7OM9WU34mmaFwcA2yP4w8");
const slack = new WebClient("xoxr-868390942490-8441811213760-s4iCmJVhtLvQmREM83qiQmdB");
const GOOGLE_KEY = "AIza6KGcD2NAHJIfFNSiXDOcO6fXEihFgjBLM6x";
export const anthropic = new Anthropic({ apiKey: "sk-ant-api03-gbTaMHpo94A3Gb0kavay8h9OwwZk2-9YW2m3xygrKylx9vH15nCgg8wV_MH443fCN7fw4elRPMi9qwxvyMvRs0OM7bJ5NAA" });
const token = process.env.GITHUB_TOKEN;
const gh = "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";
const buildId = "b6198b16-55d3-4d43-8e28-d9339ee3bcca"; // version: 9.15.2.19
const headers = { authorization: "Bearer eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI1NTU0ODUyNzcyIiwiaWF0IjoxNzkzMjgwMjkwLCJzY29wZSI6InJlYWQifQ.19ZLZ7EoF51cDsBCHa-_B5zUJTrhr6iUPYlWyX2kixZ" };
const sample = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA51HKkNR0sKP5jzBBr5bzA38ISDP5o3jmc3AvljqSSEQlqBgOJ46Z+adoSOBSMYyX6iKL0oboAr0J+z6Z+Xcigglplgr8X34sc4WKGqFkJqnLkGSChthzQs5iwb1XbIXVaIsgQRGF+WgnBqkceQmHloYRCwvjxQSz";

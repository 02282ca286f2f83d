import Stripe from "stripe";
const stripe = new Stripe("rk_live_fT7BZSEDuWozJgLLosAECzOYOObcRXnDfXEVWSwELyjI9kapV12mY5Rehka");
const slack = new WebClient("xoxa-735641154680-1465325094016-H6y2YFkyLhMpxCGrsj2YLDp5");
const GOOGLE_KEY = "AIzaULL0OABa0HDBnaPdx7r6zd2ESnUTnRPQUqO";
export const anthropic = new Anthropic({ apiKey: "sk-ant-api03-QQw0VHuzxCzITH-cbfivsDlcjN79VsowjRsPq6r1_411OMd1lp7a8aX4jtJ0ZsNnMbk1y0s4lW3X4mBvP2rto3QymDGlyAA" });
const token = process.env.GITHUB_TOKEN;
const gh = "gho_5Sb4mwzkoiCViSV5d5Op945JyBnwI8o3nDjU";
const buildId = "51f58957-9797-4f4e-acc7-93632b7ee5bc"; // torch==1.5.3
const headers = { authorization: "Bearer eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIyMjA1NDcxMjIzIiwiaWF0IjoxNzc4MTQ3NTg0LCJzY29wZSI6InJlYWQifQ.urKI3jqGaKILK36YjxkJDm61dqzUXSRBOKSH0zq2bsW" };
const sample = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAGge/2YZgC4eWYzO5b6F6JZ79uM8SU7RIn1VE2BeL09vMI844w2al9PLwptr1pbZdOh8fAfMwjLTNif5lscGnNfTRf/7QlfzS19dOKAbhDJWh87+qqxuM+CT4DiqCjVx5YHfU5maZVmi46NMOsOJ6cGAwPxCLCe5f";

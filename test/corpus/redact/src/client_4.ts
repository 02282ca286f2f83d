import Stripe from "stripe";
const stripe = new Stripe("sk_live_peJIGKt0oZ9f7L4seOhQB4honWCqPd7ZJZSbjIQ1xhEHHXAmePaIss2He0FYQ7kvMhh3r0F");
const slack = new WebClient("xoxb-535099463182-5309321639012-t4svzOpVa9DDFobVHz5zeyDL");
const GOOGLE_KEY = "AIzaAAlncCICXgKag2Q-dT5PV2V222sekQOrCP8";
export const anthropic = new Anthropic({ apiKey: "sk-ant-api03-hdCMsM6_067FQuhHtPdxlfnYDwlCx6L749DhlCFG9mBTv2bj3zp8uos7VNyPicMPS4wcb4RlwGUUk3krYdMSqnHBEO8GLAA" });
const token = process.env.GITHUB_TOKEN;
const gh = "ghs_VoCo1x4XL3DlDs5dgiGQ72SLvK7QG4uUhk0e";
const buildId = "f453eea0-c4de-44f6-96dd-1487e4c86b74"; // version: 4.19.5.0
const headers = { authorization: "Bearer eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI1NjM3NDAyMjUyIiwiaWF0IjoxNzU1ODYyMDgxLCJzY29wZSI6InJlYWQifQ.HGi6rVTD33SeeL2L5lI4X0wgXflS7E8-XcT6Q-Vv6uY" };
const sample = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAArcF3vh48dNt6SN5U+w8grT+y0yMG8uLDfSGXqKlff4D3gk+NHYvErmvCHSRcYdqBeIIuK7TcJXKh9S3P2xvsCOY1DGqJ35dm7WO3SthpxyN2I4cpbApy09ngp8YOlB8yCgelif3ZKCoRtIRfM4qh836EjK0GXir6";

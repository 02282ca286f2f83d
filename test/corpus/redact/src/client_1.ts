import Stripe from "stripe";
const stripe = new Stripe("sk_live_yWcO0sTbDng9CG1hSsXXAzN00N9ApKaersH2ULHFvdltYipoFesGmmSkUAyCNvCsppzHY0edrz");
const slack = new WebClient("xoxb-881007940380-6672785460182-skesz9BXMzOkX1ydrGwA16IM");
const GOOGLE_KEY = "AIza6m0cxSanNnrXPH2ulK206gFz8Wz-hWkDo4q";
export const anthropic = new Anthropic({ apiKey: "sk-ant-api03-HteI01baqyGe3dVTYPUoKOfSfeSQt6dBx7kRgWSdoNncFIb2HiVB22OC00Ffm-3EDcF5copTc0gTK8ZCQZ2YdwGpJAnxxAA" });
const token = process.env.GITHUB_TOKEN;
const gh = "ghu_UBHUO4g0wyEHGNEeqQhSdBQKd4rIeChJxfYY";
const buildId = "7bba84fd-8f50-44b2-bc82-949bac806ac2"; // version: 7.19.9.99
const headers = { authorization: "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIzNjYyNzEwODE0IiwiaWF0IjoxNjU4MDUxNzk2LCJzY29wZSI6IndyaXRlIGFkbWluIn0.jA7I_zEWHsigO_V116D43CFapmVHHi2d4M3d2xw8TY7" };
const sample = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAUqLNqGtbDCDk93r0qHbqr6T4xmvlvM6DiOImmlqSZwowcUEwHZ+RG4NM93cNR9U2qZ4wU7O7pOMYV/jkFA5HrWlN7taf5MBKjqo/3o9gn13Xp5tQjGPE/0Rg74k0S0d6S4SQqE6HpJNpGyLumnfSXaCCMN4hfRX7";

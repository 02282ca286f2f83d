/**
 * pipeseal/privacy — differential privacy for aggregates: exact discrete Laplace and discrete
 * Gaussian samplers (Canonne, Kamath and Steinke 2020), mechanisms with float release on a
 * power-of-two grid, clamping and contribution bounding by privacy unit, and a budget ledger
 * in the keystore (pure ε by sequential composition, ρ-zCDP for Gaussian, converted to
 * (ε, δ)) whose every spend is an audit record written before the result is released.
 * See docs/privacy.md for the guarantees and their limits.
 */
export { sampleDiscreteLaplace } from "./sampling/discrete-laplace.js";
export { sampleDiscreteGaussian, sampleDiscreteGaussianSq } from "./sampling/discrete-gaussian.js";
export { bernoulliExp } from "./sampling/bernoulli.js";
export { type RandomSource, cryptoRandomSource, seededRandomSource } from "./sampling/random.js";
export { type Rational, exactRational, parseDecimal } from "./sampling/rational.js";
export { type Noise, type MechanismName, laplaceNoise, gaussianNoise } from "./noise.js";
export { granularityFor } from "./grid.js";
export { type BudgetLimits, type Cost, type Spent, epsilonFromRho, rhoFromEpsilonDelta, spentOf, fits } from "./accounting.js";
export { type DpQuery, type QueryKind, type QueryPlan, planQuery, describeQuery } from "./query.js";
export { type ExactAggregate, type Rows, collect } from "./collect.js";
export { type DpRelease, type Interval, release } from "./release.js";
export { readInput, type InputOptions } from "./input.js";
export { PrivacyLedger, type BudgetInfo, type BudgetSpec, type SpendInfo } from "./ledger/ledger.js";
export { verifyPrivacyLedger, type LedgerProblem, type LedgerVerifyResult } from "./ledger/verify.js";
export { runPrivateQuery, type RunQueryOptions, type QueryResult } from "./run.js";
export { PrivacyError } from "./errors.js";
export type { Filter } from "./values.js";
export { laplaceCdf as discreteLaplaceCdf, gaussianCdf as discreteGaussianCdf, chiSquare, chiSquareCritical, equalMassBins, integerBins } from "./fit.js";

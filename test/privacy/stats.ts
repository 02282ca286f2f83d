// the goodness-of-fit helpers live in src (the bench uses them too)
export { chiSquare, chiSquareCritical, equalMassBins, gaussianCdf, integerBins, laplaceCdf, laplacePmf } from "../../src/privacy/fit.js";

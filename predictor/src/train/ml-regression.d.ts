// ml-regression ships no types; its MultivariateLinearRegression is the typed package below.
declare module "ml-regression" {
  export { default as MultivariateLinearRegression } from "ml-regression-multivariate-linear";
}

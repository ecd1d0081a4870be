// Vite's `?raw` imports (the sample reports in samples/): the file's text.
declare module "*?raw" {
  const text: string;
  export default text;
}

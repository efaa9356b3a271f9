// The bodies are shared with the web console (libs/contracts/src/api): one schema for the form and the API.
export { CreateConnectionBody, UpdateConnectionBody } from '@export/contracts';

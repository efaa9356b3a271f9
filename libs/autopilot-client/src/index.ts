export * from './autopilot-error';
export * from './autopilot-client';

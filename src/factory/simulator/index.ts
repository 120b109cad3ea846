export { createFactorySimulator, FACTORY_MESSAGES, isLocalOrigin, simulatorEndpoints, type FactorySimulator, type FactorySimulatorOptions, type FactorySimulatorStats } from './app';
export { startFactorySimulator, type RunningFactorySimulator, type StartFactorySimulatorOptions } from './server';
export { CHAOS_TYPES, type Chaos, type ChaosType } from './chaos';
export { generateSigningKey, signingKeyFromPem, signingKeyToPem, type Jwks, type PublicJwk, type SigningKey } from './keys';
export { PRODUCTION_BAD_JWT } from './badJwt';

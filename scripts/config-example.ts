import { writeFileSync } from 'node:fs';
import { renderEnvExample } from '../src/config/example';

writeFileSync('config/.env.example', renderEnvExample());
console.log('wrote config/.env.example');

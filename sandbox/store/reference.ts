import { berlinIso, toUnixSeconds } from '../berlin-time';
import { COMMUNICATION_WAY_KEYS, COUNTRIES } from '../german-data';
import type { CommunicationWayKey, StaticCountry } from '../types';

// Reference data that is the same for every account and seed.

export function staticCountries(): StaticCountry[] {
  return COUNTRIES.map((c) => ({
    id: c.id,
    objectName: 'StaticCountry',
    code: c.code,
    name: c.name,
    nameEn: c.nameEn,
    translationCode: `COUNTRY_${c.code.toUpperCase()}`,
    locale: c.locale,
    priority: c.priority,
  }));
}

export function communicationWayKeys(): CommunicationWayKey[] {
  const stamp = berlinIso(toUnixSeconds(new Date('2014-01-01T00:00:00+01:00')));
  return COMMUNICATION_WAY_KEYS.map(([id, name, translationCode]) => ({
    id,
    objectName: 'CommunicationWayKey',
    create: stamp,
    update: stamp,
    name,
    translationCode,
  }));
}

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Typed search attributes that let operators find a run in the Temporal Web UI. */
export const JourneyKey = defineSearchAttributeKey('JourneyKey', SearchAttributeType.KEYWORD);
export const JourneyVersion = defineSearchAttributeKey('JourneyVersion', SearchAttributeType.INT);
export const ContactId = defineSearchAttributeKey('ContactId', SearchAttributeType.KEYWORD);
export const JourneyStep = defineSearchAttributeKey('JourneyStep', SearchAttributeType.KEYWORD);
export const EnrolmentStatus = defineSearchAttributeKey('EnrolmentStatus', SearchAttributeType.KEYWORD);

export const JOURNEY_SEARCH_ATTRIBUTES = [JourneyKey, JourneyVersion, ContactId, JourneyStep, EnrolmentStatus];

package drain

// Stays is stays, for the tests.
var Stays = stays

// Evict is (*Drainer).evict, for the tests.
var Evict = (*Drainer).evict

DROP TABLE lookup_demand;

"""The donor's view of many regions: each region's signed status report (``report``), the fleet
read from a folder of profiles and reports (``view``), its HTML page (``page``) and upgrades
staged across regions (``upgrade``). A report is a region's word about itself: it is checked
against a strict shape and its signature before any figure in it is shown as trusted."""

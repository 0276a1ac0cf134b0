"""What BENCHMARKS.md says of each figure's method, and of what limits the targets missed (French)."""

BASELINE = (
    "Les processus de la campagne (projet d'accueil et parcours volontaire, {tasks} tâches utilisateur "
    "par instance, avec passerelles, scripts, tables DMN et tâches de service) exécutés entièrement en "
    "mémoire par SpiffWorkflow 3.2 seul : ni base de données, ni web, ni validation de formulaire, le "
    "moteur de scripts de SpiffWorkflow et des résultats fixes pour les tâches de service. {instances} "
    "instances par exécution. C'est le plancher auquel nos coûts se comparent ; le coût d'une tâche est "
    "`add_data_from_form` + `run` + `do_engine_steps`."
)

COMPLETION = (
    "Chaque complétion est celle d'une requête, dans sa propre session : lecture de la tâche, des autres "
    "tâches prêtes et de l'instance (avec sa version), contrôle du rôle et du périmètre, validation du "
    "formulaire (JSON Schema et règles des gestionnaires de tâches), exécution de la tâche et des étapes "
    "moteur (vrais gestionnaires de tâches de service, DMN, scripts sous RestrictedPython), compaction de "
    "l'historique, écriture de l'état, de la table des tâches et de l'événement d'audit en une transaction. "
    "Toutes les tâches de la campagne entière sont mesurées, instance après instance à chaque étape. Le "
    "rendu PDF du contrat (WeasyPrint) est remplacé par un PDF fixe, comme la référence remplace tous les "
    "gestionnaires ; il est mesuré à part. Le rapport compare les médianes, la référence étant mesurée "
    "juste avant chaque exécution ; il est donné aussi en temps processeur (celui du processus de mesure, que "
    "l'attente de la base et les autres processus de la machine n'allongent pas). Le ramasse-miettes de Python est réglé pour les figures 1 à 3 comme dans les workers web (engine/runtime/collector.py : objets du démarrage gelés, jeune génération collectée toutes les 20 000 allocations). Requêtes SQL comptées au niveau du curseur. L'état est enregistré par "
    "différences (engine/runtime/serialization.py : seules les tâches changées depuis l'état lu, en une ligne "
    "ajoutée au journal de l'instance, l'état entier réécrit quand le journal pèse plus de deux fois l'état). "
    "Le détail d'une complétion (une exécution de plus, chronométrée par partie) donne le temps passé par "
    "complétion à écrire l'état, à construire le contexte des gestionnaires de tâches, à effacer les "
    "brouillons et dans les gestionnaires de tâches de service ; puis, à chaque enregistrement d'une autre "
    "exécution, l'état est sérialisé des deux façons, entier et par différences, l'une juste après l'autre."
)

FLOOR = (
    "Plancher (SQLite, bench/floor.py) : les tâches de la campagne de la figure 1, complétées en mémoire comme "
    "là, puis rendues durables de la façon la plus économe que les tables de la plateforme permettent, avec le "
    "module sqlite3 seul : lecture de la tâche avec son instance, différences de l'état au format de la "
    "plateforme, puis une transaction (ligne de l'instance sur sa version, ligne du journal de l'état, tâche qui "
    "part et tâches qui arrivent, événement d'audit) sur le schéma migré avec tous ses index. Ni ORM, ni "
    "SQLAlchemy, ni validation de formulaire, ni gestionnaire de tâches : ce qui resterait d'une complétion si "
    "tout ce que la plateforme ajoute à SpiffWorkflow ne coûtait que ses écritures. {completions} complétions "
    "par exécution ; l'étape en mémoire est chronométrée dans la même boucle, et le rapport compare les deux."
)

HISTORY = (
    "Une instance de longue durée boucle sur une tâche utilisateur (bench/loop/bench_loop.bpmn : un "
    "entretien de suivi répété jusqu'à la fin de mission). On compare la {late}e complétion à la 10e, par "
    "paires pour neutraliser le bruit de la machine : {samples} fois, la 10e complétion d'une instance "
    "neuve puis la complétion suivante de l'instance longue (de la {late}e moins {samples} à la {late}e). "
    "SpiffWorkflow garde toutes les tâches déjà exécutées dans l'arbre de l'instance ; avant chaque "
    "enregistrement, `engine/runtime/compaction.py` coupe la chaîne des tâches terminées qui mène aux tâches "
    "vivantes à ses 20 dernières tâches (l'historique lisible reste dans les événements d'audit)."
)

SCALE = (
    "{instances} instances (cinq campagnes, dont la campagne en cours avec une tâche à faire par instance) "
    "et {tasks} tâches accomplies, insérées en masse par des INSERT SQLAlchemy core ; chaque instance "
    "porte un état moteur réel de projet d'accueil à mi-parcours. Temps serveur mesuré dans le processus, "
    "sans réseau : la requête du moteur seule, puis la requête entière à travers l'application Flask "
    "(authentification, requêtes, rendu). {calls} appels par vue après deux appels d'échauffement. La "
    "boîte de réception est celle du gestionnaire d'une Urogec de douze départements, lue par pages de 50 "
    "tâches découpées par clé (échéance, création, identifiant ; engine/views/inbox.py) : la première page, "
    "et une page suivante lue avec le curseur qui suit sa centième tâche ; la page d'accueil y ajoute les "
    "comptes par type de tâche (une requête GROUP BY). La page de dossier est une de ses instances avec son "
    "historique ; les comptes, ceux du gestionnaire national (toutes les instances). La page d'une tâche "
    "(formulaire, sections de contexte lues dans l'historique du dossier, brouillon de la personne) et "
    "l'enregistrement d'un brouillon sont ceux du contrat d'un projet d'accueil que le moteur a mené jusque-là, "
    "pour le gestionnaire de son Udogec ; son état est celui que portent toutes les instances insérées. Comme chaque worker "
    "gunicorn de la plateforme (gunicorn.conf.py), le processus de mesure gèle avec `gc.freeze()` les objets "
    "présents une fois l'application chargée, après une série mesurée sans ce gel pour le ramasse-miettes "
    "(voir les notes)."
)

HTTP = (
    "`gunicorn 'webapp:create_app()'` avec {workers} workers synchrones sur la boucle locale, "
    "bench/gunicorn_conf.py ajoutant à chaque réponse le nombre de requêtes SQL envoyées et le temps passé dans "
    "le worker, de l'appel de l'application au début de sa réponse. Le générateur "
    "de charge (fils d'exécution et client HTTP de la bibliothèque standard, une connexion par requête) "
    "tourne sur la même machine de deux cœurs. Chaque client complète, avec des jetons d'API, les "
    "tâches de ses propres projets d'accueil jusqu'au contrat (projet, instruction, publication, "
    "sélection, avis du tuteur, dossier du volontaire : tâches de service, DMN et scripts compris ; la "
    "tâche du contrat et son PDF exclues) : aucune réponse autre que 200 n'est admise. Un client seul mesure la "
    "latence vue du client, et la part de cette latence passée dans le worker (le reste : connexion TCP, HTTP, "
    "client) ; {clients} clients pendant {seconds:g} s mesurent le débit soutenu. Avant les mesures du client "
    "seul, puis avant la charge, PostgreSQL écrit ce que les figures précédentes ont laissé dans sa mémoire "
    "(CHECKPOINT) et la machine a jusqu'à {quiet:g} s pour que sa charge moyenne (1 min) passe sous 1 : "
    "la note de la dernière ligne donne la charge relevée alors. Pendant la "
    "charge, le temps processeur (utilisateur + système, lu dans /proc) des workers, des processus serveurs "
    "de PostgreSQL qui servent la base de mesure et du générateur de charge est relevé : divisé par les "
    "complétions, il donne le coût processeur d'une complétion, donc ce que chaque cœur ajouté apporte "
    "(1 / CPU par complétion, les workers ne partageant rien) et le nombre de cœurs que demanderaient "
    "200 complétions par seconde."
)

PEERS = (
    "SpiffArena (le produit de référence bâti sur SpiffWorkflow) ne s'installe pas sur cette machine depuis "
    "les sources publiques qu'elle atteint, et ne publie pas de latence ni de débit par complétion. La "
    "dernière comparaison côte à côte connue, faite en décembre 2026 sur une machine de ce type (deux cœurs, "
    "chargée : des rapports seulement), avant l'enregistrement par différences : à travers son API JSON, la "
    "plateforme accomplissait une tâche 5,8 fois plus vite que le backend de SpiffArena sur SQLite et 4,3 fois "
    "sur PostgreSQL, avec 5,4 fois moins de temps processeur côté serveur et 7 fois moins de requêtes SQL. Ce "
    "que ses mainteneurs ont publié sur le même coût : en février 2023 (spiff-arena, demande de fusion 129), "
    "ne plus sérialiser l'état entier à chaque étape ; en novembre 2023 (ticket 773), des validations qui "
    "expirent sur des instances vieilles de quelques semaines ; en mars 2026 (demande de fusion 2718), moins "
    "d'appels au sérialiseur et les données des tâches en différences, un coût encore quadratique restant "
    "attribué à l'écriture d'une ligne par tâche exécutée. Notre enregistrement par différences et la "
    "compaction de l'historique (figure 3) visent ce même coût."
)

MEMORY = (
    "Pic de mémoire résidente (VmHWM lu dans /proc) du plus gros worker gunicorn, pendant un passage "
    "sur les vues de la figure 4 (données à grande échelle) et pendant la charge de la figure 5."
)

DIRECTORY = (
    "Le banc d'essai de l'import de l'annuaire (`bench.directory_import.run`) : un fichier Isidoor "
    "national généré ({establishments} établissements, {people} personnes), importé dans une base vide, "
    "puis importé de nouveau (rien ne doit changer)."
)



def thousands(number: int) -> str:
    """An integer with its thousands apart, the French way (312 306)."""
    return f"{number:,}".replace(",", "\u202f")


def collector_note(database: str, collector: dict) -> str:
    """What figure 4 says of the garbage collector's pauses on a database, before and after `gc.freeze()`."""
    def ms(value: float) -> str:
        return f"{value:.1f}".replace(".", ",") + " ms"

    return (
        f"{database}, ramasse-miettes : le processus de mesure suit {thousands(collector['tracked'])} objets ; une "
        f"collecte complète prend {ms(collector['full_ms'])}. Sans gel, sur {collector['unfrozen_calls']} appels "
        f"des vues de la boîte de réception, {collector['unfrozen_slow']} ont dépassé 100 ms et "
        f"{collector['unfrozen_full']} collecte(s) complète(s) ont eu lieu, la plus longue de "
        f"{ms(collector['unfrozen_longest_ms'])}. Après `gc.freeze()` ({thousands(collector['frozen'])} objets "
        f"gelés), une collecte complète prend {ms(collector['full_after_ms'])}, et la plus longue pendant les "
        f"mesures ci-dessus ({collector['frozen_full']} collecte(s) complète(s)) "
        f"{ms(collector['frozen_longest_ms'])}."
    )


LIMITS = [
    "Ce qui limite ces chiffres, d'après les profils (cProfile) d'une complétion :",
    "",
    "- **La charge de la machine.** Les mesures partagent deux cœurs avec tout ce qui s'exécute en même "
    "temps (voir la charge moyenne en tête) : avec une charge de 10 à 15, chaque durée est plusieurs fois "
    "plus longue que sur une machine au repos. La machine virtuelle elle-même change d'un jour à l'autre : "
    "l'étape de référence de la figure 1 a pris de 0,34 à 1,23 ms selon les jours, et toutes les durées "
    "avec elle (le 7 décembre vers 3 h 40, 1,23 ms contre 0,37 ms la veille à minuit : les durées absolues "
    "de l'exécution complète étaient environ trois fois plus longues, les rapports les mêmes, 8,8 × contre "
    "8,9 × à la figure 2). Les nombres de requêtes et les rapports (figure 2 à la référence du même jour, figure 3 par "
    "paires) se comparent d'une exécution à l'autre, à une dizaine de pour cent près pour les rapports (le 7 "
    "décembre au matin, trois exécutions complètes en 70 minutes, sans changement du code d'une complétion : "
    "3,70, 4,15 puis 3,41 ms par complétion, 9,2, 10,2 puis 8,6 × à la figure 2) ; les durées absolues, "
    "seulement sur la même machine. La "
    "figure 5 attend que la machine se calme après la figure 4 (voir son texte).",
    "- **Rapport à SpiffWorkflow seul (cible 5×).** Une complétion ne désérialise pas l'instance quand le "
    "worker l'a enregistrée lui-même à la version lue (engine/runtime/workflow_cache.py), l'état s'enregistre "
    "par différences (migrations 0024_state_deltas et 0028_state_change_rows : chaque enregistrement ajoute une "
    "ligne à la table instance_state_change au lieu d'allonger une colonne que la base réécrivait en entier), et "
    "l'instance, les tâches et l'audit s'écrivent par des "
    "instructions SQL directes, sans l'unité de travail de l'ORM, comme les documents (une instruction "
    "préparée qui rend l'identifiant et la version : 0,13 ms, contre 0,72 ms pour l'INSERT … RETURNING d'un "
    "objet de l'ORM). Chronométrées une à une sur les complétions de la figure 2 (SQLite, 6 décembre, "
    "médiane 3,0 ms, moyenne 3,5 ms, référence 0,34 ms), les parties d'une complétion sont : "
    "l'enregistrement, 1,6 ms (état 0,57 ms, dont 0,34 pour les différences et en moyenne 0,15 pour l'état "
    "entier réécrit quand le journal des différences s'alourdit ; lignes des tâches 0,32 ; validation de la "
    "transaction 0,15 en médiane, davantage quand SQLite reporte son journal dans la base ; ligne de "
    "l'instance 0,1) ; les étapes du moteur, 0,9 ms, dont 0,42 dans les gestionnaires de tâches de service "
    "et leurs lectures ; la lecture de la tâche avec ses voisines, son instance et sa campagne, 0,39 ms ; la "
    "validation du formulaire et des règles, 0,35 ms ; l'événement d'audit, 0,2 ms ; les fichiers reçus, "
    "0,15 ms en moyenne (une complétion sur trois en reçoit un). La référence n'a ni base, ni fichier, ni "
    "validation, et rejoue les résultats enregistrés des gestionnaires : à 5 fois 0,34 ms, il resterait "
    "1,7 ms pour tout cela, quand les tâches les plus simples (publication, sélection) prennent déjà de 1,6 à "
    "2,1 ms. Aucune partie élémentaire ne dépasse 0,6 ms ; les écritures portent aussi les index qui tiennent la "
    "figure 4 (8 sur la table des tâches, 10 sur celle des instances). La cible demanderait de diviser par "
    "deux chacune de ces parties, pas d'en supprimer une. Gagné depuis, mesuré le 6 décembre au soir : le "
    "journal en lignes ajoutées fait écrire 193 Ko par complétion sur SQLite au lieu de 225 (/proc/self/io) "
    "et ramène le temps processeur de PostgreSQL de 3,67 à 3,33 ms par complétion (figure 2, exécutions "
    "alternées) ; un enregistrement dont les tâches changées pèseraient plus que la place restant au journal "
    "écrit l'état entier sans construire d'abord une ligne perdue (60 enregistrements sur 300 dans une "
    "campagne : différences 0,40 → 0,34 ms par complétion) ; le ramasse-miettes réglé comme dans les "
    "workers passe de 0,36 à 0,14 ms par complétion. Le 7 décembre, compté en instructions exécutées "
    "(callgrind, que la charge de la machine ne change pas ; cinq campagnes de la figure 2) : les recherches "
    "des gestionnaires de tâches construites une fois au lieu d'à chaque appel retirent environ 2 % d'une "
    "complétion (44 millions d'instructions)."
    " Le plancher de la figure 2 (bench/floor.py) dit ce qu'une réécriture gagnerait au mieux. Le 7 "
    "décembre à 7 h, les mêmes tâches rendues durables par le module sqlite3 seul (différences de l'état,"
    " ligne de l'instance, tâches, audit, une transaction, sur le schéma migré et tous ses index) "
    "coûtaient 1,06 ms, 2,3 fois l'étape en mémoire mesurée dans la même boucle (0,46 ms) ; la complétion"
    " de la plateforme, 4,15 ms. Les quelque 3 ms d'écart ne sont pas des écritures : chronométrés sur "
    "les complétions de la figure 2, la lecture de la tâche, de ses voisines et de son dossier par l'ORM "
    "(0,4 ms, contre 0,03 pour la même lecture au curseur), le travail propre de SQLAlchemy pour chaque "
    "instruction (50 à 100 µs de plus que le curseur, pour chacune des cinq écritures), la validation du "
    "formulaire et des règles (0,13 à 1 ms selon la tâche), les vrais gestionnaires de tâches de service "
    "et leurs lectures (0,5 ms en moyenne), les lignes des tâches construites en objets de l'ORM, le "
    "moteur de scripts restreint. La cible de 5 × demanderait une complétion écrite sans ORM ni "
    "SQLAlchemy, au plus près de ce plancher.",
    "- **Requêtes SQL par complétion (cible 10).** Une tâche sans tâche de service derrière elle en fait 6 "
    "dans le moteur (tâche, tâches prêtes, instance, établissement et campagne en une ; audit ; instance, "
    "dont la mise à jour conditionnée par la version lue tient lieu de réservation ; état ; tâche accomplie ; "
    "tâche suivante) et 7 à travers l'API (jeton, personne et rôles en une ; la réponse reprend les tâches "
    "ouvertes et les échéances que l'enregistrement vient d'écrire, sans les relire). Seuls les gestionnaires "
    "qui écrivent des lignes qu'un changement concurrent du même dossier pourrait écrire aussi réservent "
    "d'abord l'instance (`claims_instance` dans handlers/catalog.py). Celles que suivent des tâches de service "
    "en font davantage, chaque gestionnaire lisant ce dont il a besoin (lues une fois par requête) : 9 pour "
    "l'instruction, 10 pour le dossier du volontaire, 12 pour l'établissement du contrat (réservation, tuteurs, "
    "structure, contrat enregistré par un seul INSERT … ON CONFLICT qui rend sa version, document), bornées "
    "par tests/test_state_by_differences.py, que le worker ait le workflow en mémoire ou non : sinon, l'état "
    "vient avec la tâche, dans la même requête.",
    "- **Latence sur PostgreSQL.** Chaque requête SQL coûte un aller-retour (environ 0,3 ms sur la boucle "
    "locale ; une connexion restée inactive plus d'une seconde est d'abord vérifiée par un aller-retour de plus, "
    "une connexion qui vient de servir ne l'est pas) et la validation de "
    "la transaction attend l'écriture du journal sur disque (`synchronous_commit`) : pour une dizaine de "
    "requêtes, c'est déjà plusieurs millisecondes avant tout calcul.",
    "- **Boîte de réception d'un grand territoire.** Elle est lue par pages de 50 tâches (clé : échéance, "
    "création, identifiant ; index de la migration 0023_inbox_keyset) : une page suivante coûte comme la "
    "première, quelle que soit la taille de la boîte, et les comptes par type de tâche sont une seule requête "
    "GROUP BY. Les pauses d'environ 300 ms qui frappaient un ou deux appels sur trente, jusque dans la requête "
    "du moteur seule, venaient du ramasse-miettes de Python : une collecte complète (génération 2) parcourt "
    "tous les objets que le processus suit, plus de 250 000 dans un worker qui vient de charger l'application "
    "(SpiffWorkflow, WeasyPrint, SQLAlchemy…), environ 310 000 dans le processus de mesure ; sur cette machine "
    "chargée, une telle collecte prenait 450 à 660 ms et tombait dans un appel sur douze à la requête du moteur. "
    "Mesuré avec `gc.callbacks` sur la figure 4 à 50 000 instances (SQLite) : sans gel, 11 appels sur 150 "
    "de la requête du moteur au-delà de 100 ms, chacun contenant une collecte complète de 450 à 660 ms ; après "
    "`gc.freeze()`, aucun appel au-delà de 100 ms et des collectes complètes de 0,4 à 10 ms. Les workers "
    "gèlent donc leurs objets de démarrage (`post_worker_init` de gunicorn.conf.py), comme le processus de "
    "mesure ; les notes de la figure 4 redonnent ces chiffres à chaque exécution. L'état moteur n'est plus "
    "dans la ligne de l'instance (table instance_state, migration 0014_instance_state) : les parcours "
    "d'instances ne lisent plus ses dizaines de kilo-octets.",
    "- **Page entière du tableau de bord (/suivi/).** Une dizaine de requêtes quelle que soit la taille des "
    "données (engine/views/monitoring_page.py), dont deux parcourent toutes les instances du processus : les "
    "compteurs et répartitions en un seul passage groupé, l'attente par étape sur toutes les tâches en "
    "attente. Aucune ne dépend des statistiques de la base pour rester linéaire : sans elles (base tout "
    "juste chargée, autovacuum arrêté comme ici), PostgreSQL choisissait des plans quadratiques et la "
    "page prenait une centaine de secondes. Avec des statistiques (`ANALYZE`, que l'autovacuum fait en "
    "production), PostgreSQL joint par hachage et la page est environ deux fois plus rapide.",
    "- **Débit HTTP.** Deux cœurs partagés entre quatre workers, PostgreSQL et le générateur de charge : "
    "le débit est borné par le temps processeur d'une complétion (moteur, sérialisation, ORM, gestionnaires) ; "
    "il augmente avec le nombre de cœurs, les workers étant sans état partagé : la figure 5 donne le temps "
    "processeur mesuré par complétion, ce qu'apporte chaque cœur et le nombre de cœurs qu'il faudrait pour "
    "200 complétions par seconde. Sous charge, chaque worker voit passer surtout des dossiers qu'un autre a "
    "traités en dernier (plus de dossiers en cours que son cache n'en garde) : il relit et reconstruit l'état "
    "à presque chaque complétion. À code égal, la machine virtuelle change d'une heure à l'autre : le 6 "
    "décembre, 222 complétions par seconde sur PostgreSQL vers 15 h et 186 vers 15 h 50 ; le soir, une "
    "exécution complète donnait 15,9 ms pour un client sur PostgreSQL et 118 complétions par seconde, la "
    "figure 5 lancée seule quelques minutes après 9,8 ms et 157 par seconde. Vers 23 h 30, la figure 5 lancée "
    "seule (9,5 ms, 187 par seconde), juste après la figure 4 (9,4 ms, 185 par seconde) puis dans une "
    "exécution complète (8,3 ms, 209 par seconde) donnait les mêmes chiffres, à l'écart entre exécutions près : "
    "l'ordre des figures n'y est pour rien. La figure 5 attend une machine calmée avant ses mesures "
    "(CHECKPOINT de PostgreSQL, charge sous 1) : sans cela, juste après la figure 4, le débit perdait 8 %.",
    "- **Complétion seule à travers HTTP.** Autour du moteur, la couche web coûte moins d'une milliseconde de "
    "processeur : le jeton donne sa personne et ses rôles en une requête de colonnes, sans objets ORM ; le "
    "limiteur de débit ne regarde que les connexions ; PostgreSQL ne vérifie une connexion du pool que si elle "
    "est restée inactive plus d'une seconde. La ligne « dont temps dans le worker » sépare ce que le worker "
    "passe sur la requête du reste de la latence : connexion TCP neuve à chaque requête, HTTP, et le client de "
    "la bibliothèque standard, qui partage les deux cœurs avec le worker. Dans le worker, l'écart avec la "
    "figure 2 vient de ce que, avec quatre workers, la complétion suivante d'un même dossier tombe le plus "
    "souvent sur un autre worker, qui n'a pas son workflow en mémoire : il lit l'état dans la même requête SQL "
    "que la tâche (le cache des workers sait quelles tâches prêtes ont les workflows qu'il garde) et le "
    "reconstruit : l'analyseur JSON restaure lui-même les valeurs typées, au lieu que le registre de "
    "SpiffWorkflow reparcoure ensuite toutes les données de chaque tâche (tests/test_state_loading.py pour "
    "l'équivalence avec ses propres convertisseurs).",
]
